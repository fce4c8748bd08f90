"""Synthesized lines cached in SQLite as FLAC blobs, with a checksum, TTL and size budget.

FLAC (lossless) makes a clip about half the size of raw PCM and decodes a 3 s line in
about a millisecond. Hit bookkeeping (hitCount, lastAccessed) is batched in memory and
written with eviction, so a cache hit costs one read and no disk sync.
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
HITS_FLUSH_EVERY = 50


def cache_key(text: str, persona_id: str, voice_fingerprint: str) -> str:
    return hashlib.sha256(f"{persona_id}|{voice_fingerprint}|{text}".encode()).hexdigest()


def encode(audio: Audio) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, audio.samples, audio.sample_rate, format="FLAC", subtype="PCM_16")
    return buffer.getvalue()


def decode(blob: bytes) -> Audio:
    samples, sample_rate = soundfile.read(io.BytesIO(blob), dtype="int16")
    return Audio(samples, sample_rate)


@dataclass
class CacheStats:
    entries: int
    bytes: int


class AudioCache:
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
        self._count_hit(key, now)
        return decode(blob)

    def contains(self, key: str) -> bool:
        with self.database.reading() as db:
            return db.execute("select 1 from audio_cache where cacheKey = ? and expiresAt > ?",
                              [key, self.database.clock()]).fetchone() is not None

    def put(self, key: str, persona_id: str, audio: Audio) -> None:
        blob = encode(audio)
        now = self.database.clock()
        with self.database.transaction() as db:
            db["audio_cache"].upsert(
                {"cacheKey": key, "personaId": persona_id, "audio": blob,
                 "checksum": hashlib.sha256(blob).hexdigest(), "audioLength": audio.seconds,
                 "fileSize": len(blob), "format": FORMAT, "quality": "medium", "hitCount": 0,
                 "lastAccessed": now, "expiresAt": now + self.ttl_seconds, "createdAt": now},
                pk="cacheKey")

    def delete(self, key: str) -> None:
        with self.database.transaction() as db:
            db.execute("delete from audio_cache where cacheKey = ?", [key])

    def _count_hit(self, key: str, now: float) -> None:
        with self._lock:
            hits, _ = self._pending_hits.get(key, (0, now))
            self._pending_hits[key] = (hits + 1, now)
            due = sum(count for count, _ in self._pending_hits.values()) >= HITS_FLUSH_EVERY
        if due:
            self.flush_hits()

    def flush_hits(self) -> None:
        with self._lock:
            pending, self._pending_hits = self._pending_hits, {}
        if pending:
            with self.database.transaction() as db:
                db.conn.executemany(
                    "update audio_cache set hitCount = hitCount + ?, lastAccessed = "
                    "max(lastAccessed, ?) where cacheKey = ?",
                    [(hits, at, key) for key, (hits, at) in pending.items()])

    def evict(self) -> dict[str, int]:
        """Drop expired clips, then least recently used ones until within the budget."""
        self.flush_hits()
        now = self.database.clock()
        with self.database.transaction() as db:
            expired = db.execute("delete from audio_cache where expiresAt <= ?", [now]).rowcount
            total = db.execute("select coalesce(sum(fileSize), 0) from audio_cache").fetchone()[0]
            over, evicted = total - self.budget_bytes, 0
            if over > 0:
                victims, freed = [], 0
                for key, size in db.execute(
                        "select cacheKey, fileSize from audio_cache order by lastAccessed"):
                    if freed >= over:
                        break
                    victims.append((key,))
                    freed += size
                db.conn.executemany("delete from audio_cache where cacheKey = ?", victims)
                evicted = len(victims)
        return {"expired": expired, "evicted": evicted}

    def stats(self) -> CacheStats:
        with self.database.reading() as db:
            count, size = db.execute(
                "select count(*), coalesce(sum(fileSize), 0) from audio_cache").fetchone()
        return CacheStats(count, size)
