"""A short two-note cue, played when a time-critical line would come too late."""

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import numpy as np

SAMPLE_RATE = 22050
NOTES_HZ = (880.0, 1320.0)
NOTE_SECONDS = 0.09
GAP_SECONDS = 0.03


@dataclass(frozen=True)
class Earcon:
    audio: np.ndarray
    sample_rate: int = SAMPLE_RATE

    def pieces(self) -> Iterator[np.ndarray]:
        yield self.audio


@cache
def earcon() -> Earcon:
    """Two rising notes with soft edges (no clicks), about a quarter second."""
    times = np.arange(int(NOTE_SECONDS * SAMPLE_RATE)) / SAMPLE_RATE
    envelope = np.sin(np.pi * times / NOTE_SECONDS) ** 2
    gap = np.zeros(int(GAP_SECONDS * SAMPLE_RATE))
    notes = [np.sin(2 * np.pi * hz * times) * envelope for hz in NOTES_HZ]
    signal = np.concatenate([notes[0], gap, notes[1]]) * 0.4
    return Earcon((signal * 32767).astype(np.int16))
