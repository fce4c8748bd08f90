"""Pitch and formant treatment: one offline voice becomes a second, distinct speaker.

Raising pitch alone sounds like a sped-up recording, and raising pitch and formants by
the same ratio is the chipmunk effect. A different speaker has a higher pitch AND
formants raised by a smaller ratio (a shorter vocal tract), at the same speaking rate.

Two engines, chosen once at load:
- Praat's "Change gender" (praat-parselmouth): resamples for the formant shift, then
  PSOLA moves the pitch contour to the new median and restores the duration. PSOLA on a
  clean synthetic voice keeps it crisp, and it is 3-5x faster than the fallback.
- Rubber Band through pedalboard, for machines with no parselmouth wheel (the Raspberry
  Pi's aarch64): resample by the formant ratio, then a formant-preserving time stretch
  moves the pitch the rest of the way. Phase-vocoder based, so a little softer.
The engine's name is part of the voice fingerprint, so each engine has its own cache.
"""

import logging
import math
from collections.abc import Callable
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)

# Praat's pitch analysis range for the source voice (Piper's male voices sit at 80-130 Hz).
PITCH_FLOOR_HZ = 75.0
PITCH_CEILING_HZ = 600.0
PITCH_RANGE_FACTOR = 1.0  # keep the intonation's range in semitones


class Treatment(Protocol):
    """Moves a float32 mono clip to a new median pitch and formant ratio, same length."""

    name: str

    def calibrate(self, sample: Callable[[], np.ndarray], sample_rate: int) -> None:
        """Learn what the engine needs of the untreated voice; `sample()` speaks a clip."""

    def __call__(self, audio: np.ndarray, sample_rate: int, target_f0: float,
                 formant_shift: float) -> np.ndarray: ...


class PraatChangeGender:
    name = "praat-change-gender"

    def __init__(self) -> None:
        import parselmouth

        self._parselmouth = parselmouth

    def calibrate(self, sample: Callable[[], np.ndarray], sample_rate: int) -> None:
        """Nothing to learn: Praat measures each clip's own pitch contour."""

    def __call__(self, audio: np.ndarray, sample_rate: int, target_f0: float,
                 formant_shift: float) -> np.ndarray:
        sound = self._parselmouth.Sound(audio.astype(np.float64), sample_rate)
        changed = self._parselmouth.praat.call(
            sound, "Change gender", PITCH_FLOOR_HZ, PITCH_CEILING_HZ, formant_shift,
            target_f0, PITCH_RANGE_FACTOR, 1.0)
        return changed.values[0].astype(np.float32)


class RubberBandShift:
    name = "rubberband"

    def __init__(self) -> None:
        import pedalboard

        self._pedalboard = pedalboard
        self.source_f0 = 0.0

    def calibrate(self, sample: Callable[[], np.ndarray], sample_rate: int) -> None:
        """One fixed shift per voice, from the median F0 of a sample clip: each line keeps
        its own intonation, and no line pays for a pitch analysis."""
        self.source_f0 = estimate_median_f0(sample(), sample_rate)
        if self.source_f0 <= 0:
            raise ValueError("no voiced frames in the calibration clip")

    def __call__(self, audio: np.ndarray, sample_rate: int, target_f0: float,
                 formant_shift: float) -> np.ndarray:
        source_f0 = self.source_f0
        positions = np.linspace(0, len(audio) - 1, int(len(audio) / formant_shift))
        faster = np.interp(positions, np.arange(len(audio)), audio).astype(np.float32)
        semitones = 12 * math.log2(target_f0 / (source_f0 * formant_shift))
        shifted = self._pedalboard.time_stretch(
            faster, sample_rate, stretch_factor=1 / formant_shift,
            pitch_shift_in_semitones=semitones, preserve_formants=True, high_quality=False)
        return np.asarray(shifted, dtype=np.float32).reshape(-1)


ENGINES: dict[str, type[PraatChangeGender] | type[RubberBandShift]] = {
    PraatChangeGender.name: PraatChangeGender, RubberBandShift.name: RubberBandShift}


def load_treatment(engine: str | None = None) -> Treatment:
    """The named engine, or the best one installed (Praat, else Rubber Band)."""
    if engine is not None:
        return ENGINES[engine]()
    try:
        return PraatChangeGender()
    except ImportError:
        log.info("praat-parselmouth is not installed: voice treatment uses Rubber Band")
        return RubberBandShift()


def estimate_median_f0(audio: np.ndarray, sample_rate: int) -> float:
    """A cheap autocorrelation F0 estimate over voiced frames (enough to set a shift)."""
    frame = int(0.04 * sample_rate)
    hop = frame // 2
    # A 400 Hz ceiling: a wider lag range lets the second harmonic win (octave errors).
    lags = np.arange(int(sample_rate / 400), int(sample_rate / PITCH_FLOOR_HZ))
    estimates = []
    for start in range(0, len(audio) - frame, hop):
        chunk = audio[start:start + frame]
        if float(np.dot(chunk, chunk)) < 1e-5 * frame:  # silence
            continue
        correlation = np.correlate(chunk, chunk, "full")[frame - 1:]
        best = lags[np.argmax(correlation[lags])]
        if correlation[best] > 0.5 * correlation[0]:
            estimates.append(sample_rate / best)
    return float(np.median(estimates)) if estimates else 0.0
