"""The voice of the daemon: persona voices behind the audio cache."""

import asyncio
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgecoach.contract import Persona
from edgecoach.errors import VoiceError
from edgecoach.settings import CacheSettings
from edgecoach.store import Database
from edgecoach.voice.cache import AudioCache, cache_key
from edgecoach.voice.manifest import resolve_voice
from edgecoach.voice.synthesizer import Audio, PersonaVoice, load_piper

log = logging.getLogger(__name__)

MB = 1024 * 1024
DAY = 86400


@dataclass(frozen=True)
class SpokenLine:
    text: str
    audio: np.ndarray  # int16 mono
    sample_rate: int
    cache_key: str
    cache_hit: bool
    tts_latency_ms: float  # synthesis time on a miss, lookup + decode on a hit

    @property
    def audio_length_s(self) -> float:
        return len(self.audio) / self.sample_rate


class VoiceService:
    def __init__(self, voices: dict[str, PersonaVoice], cache: AudioCache) -> None:
        self.voices = voices
        self.cache = cache
        # One synthesis at a time: Piper already uses the cores, two would only thrash.
        self._synthesis = threading.Lock()

    @classmethod
    def load(cls, personas: dict[str, Persona], database: Database, cache: CacheSettings,
             models_dir: Path) -> "VoiceService":
        """Load every persona's voice once (a shared model file is loaded once)."""
        loaded: dict[str, object] = {}
        voices = {}
        for persona_id, persona in personas.items():
            files = resolve_voice(persona.voice.model, models_dir)
            if files.model not in loaded:
                loaded[files.model] = load_piper(files)
            voices[persona_id] = PersonaVoice(persona_id, loaded[files.model], files,
                                              persona.voice)
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
        key = self.key(persona_id, text)
        started = time.perf_counter()
        cached = self.cache.get(key)
        if cached is not None:
            return self._line(text, cached, key, True, started)
        with self._synthesis:
            audio, _ = self._voice(persona_id).synthesize(text)
        line = self._line(text, audio, key, False, started)
        self.cache.put(key, persona_id, audio)
        return line

    @staticmethod
    def _line(text: str, audio: Audio, key: str, hit: bool, started: float) -> SpokenLine:
        return SpokenLine(text, audio.samples, audio.sample_rate, key, hit,
                          (time.perf_counter() - started) * 1000)

    async def prepare(self, persona_id: str, texts: list[str]) -> int:
        """Speculative synthesis; cancelling stops after the line being synthesized."""
        made = 0
        for text in texts:
            if not await asyncio.to_thread(self.is_cached, persona_id, text):
                await asyncio.to_thread(self.speak, persona_id, text)
                made += 1
        return made

    def evict(self) -> dict[str, int]:
        return self.cache.evict()
