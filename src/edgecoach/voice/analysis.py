"""What a voice sounds like, in numbers: median F0 and formants (Praat) and speaking rate.

Used by the voice benchmark and the tests to check that the two personas are two
distinct speakers. Needs praat-parselmouth (imported when called).
"""

import re
from dataclasses import dataclass

import numpy as np

# The analysis range the issue fixes for comparing the personas.
PITCH_FLOOR_HZ = 60.0
PITCH_CEILING_HZ = 400.0
# Burg formant tracking; 5500 Hz suits a woman's voice, 5000 Hz a man's: one ceiling for
# both keeps the two measurements comparable.
FORMANT_CEILING_HZ = 5500.0
SILENCE_DBFS = -40.0


@dataclass(frozen=True)
class VoiceProfile:
    median_f0_hz: float
    formants_hz: tuple[float, float, float]  # median F1, F2, F3 over voiced frames
    speech_seconds: float  # leading and trailing silence trimmed
    syllables_per_second: float


def _sound(samples: np.ndarray, sample_rate: int):  # -> parselmouth.Sound
    import parselmouth

    scale = 32768.0 if samples.dtype == np.int16 else 1.0
    return parselmouth.Sound(samples.astype(np.float64) / scale, sample_rate)


def median_f0(samples: np.ndarray, sample_rate: int) -> float:
    """Praat's pitch tracker (floor 60 Hz, ceiling 400 Hz), median over voiced frames."""
    pitch = _sound(samples, sample_rate).to_pitch(
        pitch_floor=PITCH_FLOOR_HZ, pitch_ceiling=PITCH_CEILING_HZ)
    frequencies = pitch.selected_array["frequency"]
    voiced = frequencies[frequencies > 0]
    return float(np.median(voiced)) if len(voiced) else 0.0


def count_syllables(text: str) -> int:
    """Vowel groups per word, a silent final e dropped: close enough to compare rates."""
    total = 0
    for word in re.findall(r"[a-z']+", text.lower()):
        groups = len(re.findall(r"[aeiouy]+", word))
        if word.endswith("e") and not word.endswith(("le", "ee")) and groups > 1:
            groups -= 1
        total += max(1, groups)
    return total


def speech_seconds(samples: np.ndarray, sample_rate: int) -> float:
    """The clip's length without its leading and trailing silence."""
    level = np.abs(samples.astype(np.float64)) / (32768.0 if samples.dtype == np.int16 else 1)
    loud = np.flatnonzero(level > 10 ** (SILENCE_DBFS / 20))
    return (loud[-1] - loud[0]) / sample_rate if len(loud) else 0.0


def profile(samples: np.ndarray, sample_rate: int, text: str) -> VoiceProfile:
    """Median F0, median formants of voiced frames, and syllables per second of speech."""
    sound = _sound(samples, sample_rate)
    pitch = sound.to_pitch(pitch_floor=PITCH_FLOOR_HZ, pitch_ceiling=PITCH_CEILING_HZ)
    formant = sound.to_formant_burg(max_number_of_formants=5,
                                    maximum_formant=FORMANT_CEILING_HZ)
    frequencies = pitch.selected_array["frequency"]
    voiced_times = [pitch.xs()[i] for i in np.flatnonzero(frequencies > 0)]
    formants = []
    for number in (1, 2, 3):
        values = [formant.get_value_at_time(number, at) for at in voiced_times]
        values = [value for value in values if value == value]  # NaN where none was found
        formants.append(float(np.median(values)) if values else 0.0)
    seconds = speech_seconds(samples, sample_rate)
    voiced = frequencies[frequencies > 0]
    return VoiceProfile(
        median_f0_hz=float(np.median(voiced)) if len(voiced) else 0.0,
        formants_hz=(formants[0], formants[1], formants[2]),
        speech_seconds=seconds,
        syllables_per_second=count_syllables(text) / seconds if seconds else 0.0)
