"""Pitch and formant treatment: one offline voice becomes a second, distinct speaker.

Raising pitch alone sounds like a sped-up recording and raising everything by the same
ratio is the chipmunk effect. A different speaker has a higher pitch AND formants raised
by a smaller ratio (a shorter vocal tract). Two steps with pedalboard (which ships wheels
for the Raspberry Pi's aarch64, unlike Praat's bindings):
1. resample so the clip plays `formant_shift` times faster: pitch and formants rise by it;
2. time-stretch back to the original length, shifting pitch the rest of the way to the
   target with formants preserved, so formants stay at `formant_shift`.
"""

import math

import numpy as np
import pedalboard

PITCH_FLOOR_HZ = 60.0


def estimate_median_f0(audio: np.ndarray, sample_rate: int) -> float:
    """A cheap autocorrelation F0 estimate over voiced frames (enough to set the shift)."""
    frame = int(0.04 * sample_rate)
    hop = frame // 2
    lags = np.arange(int(sample_rate / 400), int(sample_rate / PITCH_FLOOR_HZ))
    estimates = []
    for start in range(0, len(audio) - frame, hop):
        chunk = audio[start:start + frame]
        energy = float(np.dot(chunk, chunk))
        if energy < 1e-3 * frame * 0.01:
            continue
        correlation = np.correlate(chunk, chunk, "full")[frame - 1:]
        best = lags[np.argmax(correlation[lags])]
        if correlation[best] > 0.5 * correlation[0]:
            estimates.append(sample_rate / best)
    return float(np.median(estimates)) if estimates else 0.0


def change_speaker(audio: np.ndarray, sample_rate: int, source_f0: float, target_f0: float,
                   formant_shift: float) -> np.ndarray:
    """Float32 mono in, float32 mono out, same length; pitch to `target_f0` Hz."""
    positions = np.linspace(0, len(audio) - 1, int(len(audio) / formant_shift))
    faster = np.interp(positions, np.arange(len(audio)), audio).astype(np.float32)
    semitones = 12 * math.log2(target_f0 / (source_f0 * formant_shift))
    shifted = pedalboard.time_stretch(
        faster, sample_rate, stretch_factor=1 / formant_shift,
        pitch_shift_in_semitones=semitones, preserve_formants=True, high_quality=False)
    return np.asarray(shifted, dtype=np.float32).reshape(-1)
