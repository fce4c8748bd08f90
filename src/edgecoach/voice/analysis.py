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


def log_mel_db(samples: np.ndarray, sample_rate: int, bands: int = 80,
               window: int = 1024, hop: int = 256) -> np.ndarray:
    """Frames x bands of power in dB on the mel scale (Hann window, triangular bands)."""
    audio = samples.astype(np.float64) / (32768.0 if samples.dtype == np.int16 else 1.0)
    frames = np.lib.stride_tricks.sliding_window_view(np.pad(audio, window // 2), window)[::hop]
    power = np.abs(np.fft.rfft(frames * np.hanning(window), axis=1)) ** 2
    mel_edges = np.linspace(0, 2595 * np.log10(1 + sample_rate / 2 / 700), bands + 2)
    hertz = 700 * (10 ** (mel_edges / 2595) - 1)
    bins = np.fft.rfftfreq(window, 1 / sample_rate)
    low, centre, high = hertz[:-2, None], hertz[1:-1, None], hertz[2:, None]
    triangles = np.clip(np.minimum((bins - low) / (centre - low), (high - bins) / (high - centre)),
                        0, None)
    return 10 * np.log10(power @ triangles.T + 1e-10)


def aligned_spectral_distance_db(first: np.ndarray, second: np.ndarray,
                                 sample_rate: int) -> float:
    """Mean RMS difference (dB) of two renderings' log-mel frames, aligned by dynamic time
    warping (symmetric steps), so a phoneme a frame longer does not shift the rest."""
    a, b = log_mel_db(first, sample_rate), log_mel_db(second, sample_rate)
    distance = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).mean(axis=2))
    cost = np.full((len(a) + 1, len(b) + 1), np.inf)
    cost[0, 0] = 0.0
    for row in range(1, len(a) + 1):
        here = distance[row - 1]
        diagonal = cost[row - 1, :-1] + 2 * here
        above = cost[row - 1, 1:] + here
        best = np.minimum(diagonal, above)
        for column in range(1, len(b) + 1):  # the step from the left depends on this row
            cost[row, column] = min(best[column - 1], cost[row, column - 1] + here[column - 1])
    return float(cost[-1, -1] / (len(a) + len(b)))
