"""Synthesized lines cached in SQLite as FLAC blobs, with a checksum, TTL and size budget.

FLAC (lossless) makes a clip about half the size of raw PCM and decodes a 3 s line in
about a millisecond, well inside the 5 ms budget of a hit. Hit bookkeeping (hitCount,
lastAccessed) is batched in memory and written before eviction and at shutdown: the
store syncs every commit (synchronous=FULL), and a hit must not wait for a disk sync.

Sizes are summed with length(audio), not the fileSize column: the blob sits before
fileSize in the row, so reading fileSize walks every overflow page of the blob (100 ms
for a full 200 MB cache), while the blob's length is in the row header (2 ms).
"""

import hashlib
import io
import logging
import threading
from dataclasses import dataclass

import soundfile

from edgecoach.store import Database
from edgecoach.voice.synthesizer import Audio

log = logging.getLogger(__name__)

FORMAT = "flac"
HITS_FLUSH_EVERY = 50  # pending hits written in one transaction once this many gather


def cache_key(text: str, persona_id: str, voice_fingerprint: str) -> str:
    """sha256 of the text, the persona and the voice fingerprint (voice id, model hash,
    synthesis settings, treatment engine)."""
    return hashlib.sha256(f"{persona_id}|{voice_fingerprint}|{text}".encode()).hexdigest()


def encode(audio: Audio) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, audio.samples, audio.sample_rate, format="FLAC", subtype="PCM_16")
    return buffer.getvalue()


def decode(blob: bytes) -> Audio:
    samples, sample_rate = soundfile.read(io.BytesIO(blob), dtype="int16")
    return Audio(samples, sample_rate)


@dataclass(frozen=True)
class CacheStats:
    entries: int
    bytes: int


class AudioCache:
    """The `audio_cache` table; every method is blocking (call it from a worker thread)."""

    def __init__(self, database: Database, budget_bytes: int, ttl_seconds: float) -> None:
        self.database = database
        self.budget_bytes = budget_bytes
        self.ttl_seconds = ttl_seconds
        self._pending_hits: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Audio | None:
        """The cached clip, or None; a clip failing its checksum is dropped, never played."""
        now = self.database.clock()
        with self.database.reading() as db:
            row = db.execute("select audio, checksum from audio_cache where cacheKey = ? "
                             "and expiresAt > ?", [key, now]).fetchone()
        if row is None:
            return None
        blob, checksum = row
        if hashlib.sha256(blob).hexdigest() != checksum:
            log.warning("cached clip %s failed its checksum: dropped", key[:12])
            self.delete(key)
            return None
        try:
            audio = decode(blob)
        except (soundfile.LibsndfileError, RuntimeError) as error:  # stored broken
            log.warning("cached clip %s does not decode (%s): dropped", key[:12], error)
            self.delete(key)
            return None
        self.count_hit(key, now)
        return audio

    def contains(self, key: str) -> bool:
        with self.database.reading() as db:
            return db.execute("select 1 from audio_cache where cacheKey = ? and expiresAt > ?",
                              [key, self.database.clock()]).fetchone() is not None

    def put(self, key: str, persona_id: str, audio: Audio, quality: str = "unknown") -> None:
        """Store a clip (expiring after the TTL); evict right away if over the budget."""
        blob = encode(audio)
        now = self.database.clock()
        with self.database.transaction() as db:
            db.table("audio_cache").upsert(
                {"cacheKey": key, "personaId": persona_id, "audio": blob,
                 "checksum": hashlib.sha256(blob).hexdigest(), "audioLength": audio.seconds,
                 "fileSize": len(blob), "format": FORMAT, "quality": quality, "hitCount": 0,
                 "lastAccessed": now, "expiresAt": now + self.ttl_seconds, "createdAt": now},
                pk="cacheKey")
            total = db.execute("select coalesce(sum(length(audio)), 0) from audio_cache"
                               ).fetchone()[0]
        if total > self.budget_bytes:
            self.evict()

    def delete(self, key: str) -> None:
        with self.database.transaction() as db:
            db.execute("delete from audio_cache where cacheKey = ?", [key])

    def count_hit(self, key: str, now: float | None = None) -> None:
        """Count a hit (batched: `flush_hits`), also of a clip served from memory."""
        now = self.database.clock() if now is None else now
        with self._lock:
            hits, _ = self._pending_hits.get(key, (0, now))
            self._pending_hits[key] = (hits + 1, now)
            due = sum(count for count, _ in self._pending_hits.values()) >= HITS_FLUSH_EVERY
        if due:
            self.flush_hits()

    def flush_hits(self) -> None:
        """Write the batched hitCount/lastAccessed updates (call at shutdown too)."""
        with self._lock:
            pending, self._pending_hits = self._pending_hits, {}
        if pending:
            with self.database.transaction() as db:
                db.conn.executemany(
                    "update audio_cache set hitCount = hitCount + ?, lastAccessed = "
                    "max(lastAccessed, ?) where cacheKey = ?",
                    [(hits, at, key) for key, (hits, at) in pending.items()])

    def evict(self) -> dict[str, int]:
        """Drop expired clips, then the least recently used until within the budget."""
        self.flush_hits()
        now = self.database.clock()
        with self.database.transaction() as db:
            expired = db.execute("delete from audio_cache where expiresAt <= ?", [now]).rowcount
            total = db.execute("select coalesce(sum(length(audio)), 0) from audio_cache"
                               ).fetchone()[0]
            over, victims = total - self.budget_bytes, []
            if over > 0:
                freed = 0
                for key, size in db.execute("select cacheKey, length(audio) from audio_cache "
                                            "order by lastAccessed, createdAt"):
                    if freed >= over:
                        break
                    victims.append((key,))
                    freed += size
                db.conn.executemany("delete from audio_cache where cacheKey = ?", victims)
        if expired or victims:
            log.info("audio cache: %d expired and %d least recently used clips dropped",
                     expired, len(victims))
        return {"expired": expired, "evicted": len(victims)}

    def stats(self) -> CacheStats:
        with self.database.reading() as db:
            count, size = db.execute(
                "select count(*), coalesce(sum(length(audio)), 0) from audio_cache").fetchone()
        return CacheStats(count, size)
