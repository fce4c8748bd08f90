"""The voice of the daemon: persona voices behind the audio cache."""

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import onnxruntime
from piper import PiperVoice

from edgecoach.contract import Persona
from edgecoach.errors import VoiceError
from edgecoach.memory import release_freed_heap
from edgecoach.settings import CacheSettings
from edgecoach.store import Database
from edgecoach.voice.cache import AudioCache, cache_key
from edgecoach.voice.line import LineStream, SpokenLine
from edgecoach.voice.manifest import resolve_voice
from edgecoach.voice.synthesizer import Audio, PersonaVoice, load_piper
from edgecoach.voice.treatment import PsolaShift

log = logging.getLogger(__name__)

MB = 1024 * 1024
DAY = 86400
# Speculative clips kept in memory until their first hit: it needs no SQLite read, no
# checksum and no FLAC decode (2 ms of a hit's 4, measured). 8 clips: about 1 MB.
FRESH_CLIPS = 8


class VoiceService:
    """Speaks text in a persona's voice; blocking methods run in worker threads."""

    def __init__(self, voices: dict[str, PersonaVoice], cache: AudioCache) -> None:
        self.voices = voices
        self.cache = cache
        # One synthesis step at a time (Piper already uses both cores; two would only
        # thrash), live lines before speculative ones; the lines under way, by key.
        self._turns = threading.Condition()
        self._stepping: tuple[LineStream, onnxruntime.RunOptions] | None = None
        self._under_way: dict[str, LineStream] = {}
        self._live_events = 0  # events being handled (live_event): speculation waits
        self._fresh: dict[str, Audio] = {}  # speculative clips not played yet, oldest first

    @classmethod
    def load(cls, personas: dict[str, Persona], database: Database, cache: CacheSettings,
             models_dir: Path, threads: int | None = None) -> "VoiceService":
        """Load every persona's voice (a model shared by personas is loaded once);
        `threads`: ONNX Runtime's threads per session (settings.voice_threads).

        Raises VoiceError naming the file when a voice is missing or corrupt.
        """
        loaded: dict[Path, PiperVoice] = {}
        voices = {}
        for persona_id, persona in personas.items():
            files = resolve_voice(persona.voice.model, models_dir)
            if files.model not in loaded:
                started = time.perf_counter()
                loaded[files.model] = load_piper(files, threads)
                log.info("voice %s loaded from %s in %.0f ms", files.voice_id, files.model,
                         (time.perf_counter() - started) * 1000)
            # PersonaVoice drops the treatment when the settings ask for no pitch.
            voices[persona_id] = PersonaVoice(persona_id, loaded[files.model], files,
                                              persona.voice, PsolaShift())
        release_freed_heap()  # the calibration clips' buffers
        return cls(voices, AudioCache(database, int(cache.budget_mb * MB),
                                      cache.ttl_days * DAY))

    def _voice(self, persona_id: str) -> PersonaVoice:
        try:
            return self.voices[persona_id]
        except KeyError:
            raise VoiceError(f"no voice for persona {persona_id}") from None

    def key(self, persona_id: str, text: str) -> str:
        return cache_key(text, persona_id, self._voice(persona_id).fingerprint)

    def is_cached(self, persona_id: str, text: str) -> bool:
        return self.cache.contains(self.key(persona_id, text))

    def speak(self, persona_id: str, text: str) -> SpokenLine:
        """Blocking: the whole line, from the cache or a new synthesis stored in it."""
        return self.open(persona_id, text).result()

    def open(self, persona_id: str, text: str, live: bool = True,
             before_synthesis: Callable[[], None] | None = None) -> LineStream:
        """Blocking but quick: the cached line, the synthesis of it under way, or a new
        synthesis started in a thread of its own. A live request moves a speculative
        synthesis of the same line ahead of the others (the line is then `prepared`: not a
        miss). `before_synthesis` runs only when a new synthesis starts (a quota check);
        what it raises, `open` raises."""
        voice = self._voice(persona_id)
        key = cache_key(text, persona_id, voice.fingerprint)
        started = time.perf_counter()
        with self._turns:
            fresh = self._fresh.pop(key, None) if live else None
        if fresh is not None:
            self.cache.count_hit(key)
            return LineStream.whole(self._hit(text, fresh, key, started))
        cached = self.cache.get(key)
        if cached is not None:
            return LineStream.whole(self._hit(text, cached, key, started))
        with self._turns:
            joined = self._join(key, live)
        if joined is not None:
            return joined
        if before_synthesis is not None:
            before_synthesis()
        with self._turns:
            stream = self._join(key, live)  # another request may have started it meanwhile
            if stream is None:
                cached = self.cache.get(key)  # a synthesis may have finished meanwhile
                if cached is not None:
                    return LineStream.whole(self._hit(text, cached, key, started))
                stream = LineStream(text, voice.sample_rate, key, live)
                self._under_way[key] = stream
                if live:
                    self._preempt()
                threading.Thread(target=self._synthesize, args=(voice, stream),
                                 name=f"voice-{key[:8]}").start()
        return stream

    def _preempt(self) -> None:
        """Cut a speculative step under way short (call holding `_turns`): its ONNX run
        ends within a few ms and runs again on the line's next turn (vits.preemptible)."""
        if self._stepping is not None and not self._stepping[0].live:
            self._stepping[1].terminate = True

    @contextmanager
    def live_event(self) -> Iterator[None]:
        """While an event is handled, speculation takes no new step: the event's line,
        a hit or a new synthesis, has the cores. A step under way goes on (most events
        are hits, done in a few ms; a new synthesis cuts it short: `open`)."""
        with self._turns:
            self._live_events += 1
        try:
            yield
        finally:
            with self._turns:
                self._live_events -= 1
                self._turns.notify_all()

    def _join(self, key: str, live: bool) -> LineStream | None:
        """The synthesis of this line under way, if any (call holding `_turns`); a live
        request raises a speculative one to live, ahead of the others."""
        stream = self._under_way.get(key)
        if stream is not None and live and not stream.live:
            stream.live = stream.prepared = True
            self._turns.notify_all()
        return stream

    @staticmethod
    def _hit(text: str, audio: Audio, key: str, started: float) -> SpokenLine:
        return SpokenLine(text, audio.samples, audio.sample_rate, key, True,
                          (time.perf_counter() - started) * 1000)

    def _synthesize(self, voice: PersonaVoice, stream: LineStream) -> None:
        """The synthesis thread: pieces into the stream, then the whole into the cache."""
        error, made = None, []
        control = onnxruntime.RunOptions()  # its `terminate` cuts a speculative step short
        try:
            # A speculative line starts with long windows (less work); joined, it goes on
            # with them.
            pieces = voice.pieces(stream.text, control, quick_start=stream.live)
            while True:
                with self._turn(stream, control):
                    piece = next(pieces, None)
                    if piece is not None and len(piece):
                        stream.append(piece)  # within the turn: it changes the ranks
                        made.append(piece)
                if piece is None:
                    break
            audio = Audio(np.concatenate(made), voice.sample_rate)
            # Unsynced: a sync here would hold the writer a hit's commits wait for. A clip
            # can be made again; a spoken one is synced by its line's commit right after.
            with self.cache.database.unsynced():
                self.cache.put(stream.cache_key, voice.persona_id, audio, voice.files.quality)
            if not stream.live:
                self._keep_fresh(stream.cache_key, audio)
            release_freed_heap()  # the line's buffers and its FLAC encoding
        except VoiceError as failure:
            error = failure
        except Exception as failure:  # onnxruntime, Rubber Band, SQLite raise many kinds
            error = VoiceError(f"voice {voice.persona_id}: synthesis failed: {failure}")
        if error is not None:
            log.warning("%s", error)  # also raised to whoever waits for the line
        with self._turns:  # the line is in the cache now, or will be made anew
            del self._under_way[stream.cache_key]
            self._turns.notify_all()
        stream.finish(error)

    def _keep_fresh(self, key: str, audio: Audio) -> None:
        with self._turns:
            self._fresh[key] = audio
            while len(self._fresh) > FRESH_CLIPS:
                del self._fresh[next(iter(self._fresh))]

    def forget_fresh(self) -> None:
        """Drop the speculative clips kept in memory (a user erased: theirs go too)."""
        with self._turns:
            self._fresh.clear()

    @staticmethod
    def _rank(stream: LineStream) -> int:
        """Who steps first: a live line's first piece (the athlete waits for it), then
        the rest of live lines (already playing, ahead of the player), then speculation."""
        if not stream.live:
            return 2
        return 1 if stream.has_audio else 0

    @contextmanager
    def _turn(self, stream: LineStream, control: onnxruntime.RunOptions) -> Iterator[None]:
        """One step of one synthesis, taken when no line of a better rank is under way
        (and, for speculation, no event is being handled); a live line's wait for it is
        added to the line's `waited_ms`."""
        def may_step() -> bool:
            rank = self._rank(stream)
            return self._stepping is None and (rank < 2 or not self._live_events) and all(
                self._rank(other) >= rank for other in self._under_way.values())

        asked, live = time.perf_counter(), stream.live
        with self._turns:
            self._turns.wait_for(may_step)
            self._stepping = (stream, control)
            control.terminate = False  # a cut it was told of before this turn is done
        if live:
            stream.waited_ms += (time.perf_counter() - asked) * 1000
        try:
            yield
        finally:
            with self._turns:
                self._stepping = None
                self._turns.notify_all()

    async def prepare(self, persona_id: str, texts: list[str]) -> int:
        """Synthesize lines ahead of time, after any live line; returns how many were new.

        Cancelling the task stops after the line being synthesized (its thread goes on,
        and the line still lands in the cache).
        """
        made = 0
        for text in texts:
            stream = await asyncio.to_thread(self.open, persona_id, text, False)
            line = await asyncio.to_thread(stream.result)
            made += not line.cache_hit
        return made

    def evict(self) -> dict[str, int]:
        """Drop expired and over-budget clips (the daemon schedules this)."""
        return self.cache.evict()

    def flush(self) -> None:
        """Write batched cache hit counts (call at shutdown)."""
        self.cache.flush_hits()
