"""A spoken line, whole (SpokenLine) or still being made (LineStream).

A line is played as its synthesis goes: the first piece is ready a fraction of a second
after the text, and the rest comes faster than it plays. One thread appends pieces;
any number of readers (the player, a WAV sink, the pipeline waiting for the whole
line) each walk them from the start, waiting for the next one as needed.
"""

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from edgecoach.errors import VoiceError


@dataclass(frozen=True)
class SpokenLine:
    """One line, all of its audio."""

    text: str
    audio: np.ndarray  # int16 mono
    sample_rate: int
    cache_key: str
    cache_hit: bool
    tts_latency_ms: float  # synthesis + store on a miss, lookup + decode on a hit
    prepared: bool = False  # a live request joined its speculative synthesis
    waited_ms: float = 0.0  # live, waiting for turns of the voice (VoiceService)

    @property
    def audio_length_s(self) -> float:
        return len(self.audio) / self.sample_rate

    def pieces(self) -> Iterator[np.ndarray]:
        yield self.audio


class LineStream:
    """A line's audio as it is synthesized; `live` lines go before speculative ones."""

    def __init__(self, text: str, sample_rate: int, cache_key: str, live: bool,
                 cache_hit: bool = False) -> None:
        self.text = text
        self.sample_rate = sample_rate
        self.cache_key = cache_key
        self.live = live
        self.cache_hit = cache_hit
        self.prepared = False  # speculative when started, then joined by a live request
        self.waited_ms = 0.0  # live, waiting for turns of the voice (VoiceService)
        self.started = time.perf_counter()
        self._pieces: list[np.ndarray] = []
        self._changed = threading.Condition()
        self._done = False
        self._error: VoiceError | None = None
        self._elapsed_ms = 0.0

    @classmethod
    def whole(cls, line: SpokenLine) -> "LineStream":
        """A stream already complete (a cache hit)."""
        stream = cls(line.text, line.sample_rate, line.cache_key, True, line.cache_hit)
        stream.started -= line.tts_latency_ms / 1000  # the lookup's time counts
        stream.append(line.audio)
        stream.finish()
        return stream

    @property
    def done(self) -> bool:
        return self._done

    @property
    def has_audio(self) -> bool:
        """Its first piece is there: a player can start."""
        return bool(self._pieces)

    def append(self, piece: np.ndarray) -> None:
        with self._changed:
            self._pieces.append(piece)
            self._changed.notify_all()

    def finish(self, error: VoiceError | None = None) -> None:
        with self._changed:
            self._done, self._error = True, error
            self._elapsed_ms = (time.perf_counter() - self.started) * 1000
            self._changed.notify_all()

    def pieces(self) -> Iterator[np.ndarray]:
        """Every piece from the first, waiting for those not made yet; a synthesis that
        failed part-way ends the walk with its VoiceError."""
        index = 0
        while True:
            with self._changed:
                while index == len(self._pieces) and not self._done:
                    self._changed.wait()
                if index == len(self._pieces):
                    if self._error is not None:
                        raise self._error
                    return
                piece = self._pieces[index]
            index += 1
            yield piece

    def wait_first(self, timeout: float | None = None) -> bool:
        """Block until the first piece is there, or `timeout` seconds: whether it is
        (raises the VoiceError if no piece will ever be)."""
        with self._changed:
            self._changed.wait_for(lambda: bool(self._pieces) or self._done, timeout)
            if not self._pieces and self._error is not None:
                raise self._error
            return bool(self._pieces)

    def result(self) -> SpokenLine:
        """Block until the line is complete; its VoiceError if the synthesis failed."""
        with self._changed:
            self._changed.wait_for(lambda: self._done)
            if self._error is not None:
                raise self._error
            audio = np.concatenate(self._pieces)
        return SpokenLine(self.text, audio, self.sample_rate, self.cache_key, self.cache_hit,
                          self._elapsed_ms, self.prepared, self.waited_ms)
