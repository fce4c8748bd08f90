"""The voice of the daemon: persona voices behind the audio cache."""

import asyncio
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from piper import PiperVoice

from edgecoach.contract import Persona
from edgecoach.errors import VoiceError
from edgecoach.settings import CacheSettings
from edgecoach.store import Database
from edgecoach.voice.cache import AudioCache, cache_key
from edgecoach.voice.manifest import resolve_voice
from edgecoach.voice.synthesizer import Audio, PersonaVoice, load_piper
from edgecoach.voice.treatment import RubberBandShift

log = logging.getLogger(__name__)

MB = 1024 * 1024
DAY = 86400


@dataclass(frozen=True)
class SpokenLine:
    """One line ready to play."""

    text: str
    audio: np.ndarray  # int16 mono
    sample_rate: int
    cache_key: str
    cache_hit: bool
    tts_latency_ms: float  # synthesis + store on a miss, lookup + decode on a hit

    @property
    def audio_length_s(self) -> float:
        return len(self.audio) / self.sample_rate


class VoiceService:
    """Speaks text in a persona's voice; blocking methods run in worker threads."""

    def __init__(self, voices: dict[str, PersonaVoice], cache: AudioCache) -> None:
        self.voices = voices
        self.cache = cache
        # One synthesis at a time: Piper already uses both cores, two would only thrash.
        self._synthesis = threading.Lock()

    @classmethod
    def load(cls, personas: dict[str, Persona], database: Database, cache: CacheSettings,
             models_dir: Path) -> "VoiceService":
        """Load every persona's voice (a model shared by personas is loaded once).

        Raises VoiceError naming the file when a voice is missing or corrupt.
        """
        loaded: dict[Path, PiperVoice] = {}
        voices = {}
        for persona_id, persona in personas.items():
            files = resolve_voice(persona.voice.model, models_dir)
            if files.model not in loaded:
                started = time.perf_counter()
                loaded[files.model] = load_piper(files)
                log.info("voice %s loaded from %s in %.0f ms", files.voice_id, files.model,
                         (time.perf_counter() - started) * 1000)
            # PersonaVoice drops the treatment when the settings ask for no pitch.
            voices[persona_id] = PersonaVoice(persona_id, loaded[files.model], files,
                                              persona.voice, RubberBandShift())
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
        """Blocking: the cached clip, or a new synthesis stored in the cache."""
        voice = self._voice(persona_id)
        key = cache_key(text, persona_id, voice.fingerprint)
        started = time.perf_counter()
        cached = self.cache.get(key)
        if cached is not None:
            return self._line(text, cached, key, True, started)
        with self._synthesis:
            # A speculative synthesis may have made this very line while we waited.
            cached = self.cache.get(key)
            if cached is not None:
                return self._line(text, cached, key, True, started)
            audio = voice.synthesize(text)
            self.cache.put(key, persona_id, audio, voice.files.quality)
        return self._line(text, audio, key, False, started)

    @staticmethod
    def _line(text: str, audio: Audio, key: str, hit: bool, started: float) -> SpokenLine:
        return SpokenLine(text, audio.samples, audio.sample_rate, key, hit,
                          (time.perf_counter() - started) * 1000)

    async def prepare(self, persona_id: str, texts: list[str]) -> int:
        """Synthesize lines ahead of time, in a worker thread; returns how many were new.

        Cancelling the task stops after the line being synthesized (a thread cannot be
        interrupted; that line still lands in the cache).
        """
        made = 0
        for text in texts:
            if not await asyncio.to_thread(self.is_cached, persona_id, text):
                line = await asyncio.to_thread(self.speak, persona_id, text)
                made += not line.cache_hit
        return made

    def evict(self) -> dict[str, int]:
        """Drop expired and over-budget clips (the daemon schedules this)."""
        return self.cache.evict()

    def flush(self) -> None:
        """Write batched cache hit counts (call at shutdown)."""
        self.cache.flush_hits()
