"""Pitch and formant treatment: one offline voice becomes a second, distinct speaker.

Raising pitch alone sounds like a sped-up recording, and raising pitch and formants by
the same ratio is the chipmunk effect. A different speaker has a higher pitch AND
formants raised by a smaller ratio (a shorter vocal tract), at the same speaking rate.

Resample by the formant ratio (pitch and formants go up together, the clip gets
shorter), then TD-PSOLA (pitch-synchronous overlap-add) restores the length and moves
the pitch the rest of the way: each period of the voiced sound is one grain, laid down
closer to the next; consonants without pitch are laid down as they were. The shift is
fixed per voice (from its median F0, measured once at load), so each line keeps its
intonation. Rubber Band (a phase vocoder) did the second step before: the same F0 and
formants, but it smeared consonant onsets and left a haze above 6 kHz, and the
recognizer of the voice benchmark missed 1.6 times as many words as in the untreated
voice; with PSOLA, as many (docs/voice.md, "How clearly they speak").
"""

import numpy as np

# The treatment is causal: a clip's first n samples, treated alone, give the same samples
# as the whole clip treated, but for their last LOOKAHEAD_SECONDS (tested; 0.04 s at
# most, measured over 30 corpus sentences: an analysis frame, a grain, the next mark).
# So a sentence can be treated as its decoder windows come, with no seam.
LOOKAHEAD_SECONDS = 0.1
# F0 search range of the source voice (Piper's male voices sit at 80-130 Hz).
PITCH_FLOOR_HZ = 75.0
# Pitch-synchronous overlap-add (TD-PSOLA), after the formant resampling.
FRAME_SECONDS = 0.03  # pitch analysis frame: three periods of a 100 Hz voice
HOP_SECONDS = 0.005
FRAMES_PER_BATCH = 100  # frames analysed together: about 3 MB of FFT at 22,050 Hz
UNVOICED_GRAIN_SECONDS = 0.005  # half-width of a grain where there is no pitch
VOICING_THRESHOLD = 0.45  # normalized autocorrelation at the period
SILENCE_POWER = 1e-6  # mean square below which a frame is not voiced (-60 dBFS)


class PsolaShift:
    """Moves a float32 mono clip to a new median pitch and formant ratio, same length.

    Resample by the formant ratio, then TD-PSOLA: in voiced
    stretches the waveform is cut into two-period grains centred on its pitch marks and
    laid down again closer together (a higher pitch) at the places that keep the length;
    unvoiced stretches (fricatives, bursts) are laid down as they were, so consonants
    keep their sharp onsets.
    """

    # In the voice fingerprint: another engine, another cache ("psola" resampled along
    # the whole clip's length, so a prefix did not treat as the whole did).
    name = "psola-causal"

    def __init__(self) -> None:
        self.source_f0 = 0.0

    def calibrate(self, clip: np.ndarray, sample_rate: int) -> None:
        """Measure the untreated voice's median F0 on a clip it spoke."""
        self.source_f0 = estimate_median_f0(clip, sample_rate)
        if self.source_f0 <= 0:
            raise ValueError("no voiced frames in the calibration clip")

    def __call__(self, audio: np.ndarray, sample_rate: int, target_f0: float,
                 formant_shift: float) -> np.ndarray:
        if len(audio) < 2 * FRAME_SECONDS * sample_rate * formant_shift:
            return audio.astype(np.float32)  # too short to carry a pitch (a click, a breath)
        faster = formant_resampled(audio, formant_shift)
        moved_f0 = self.source_f0 * formant_shift
        periods = pitch_periods(faster, sample_rate, 0.5 * moved_f0, 2.2 * moved_f0)
        return overlap_add(faster, periods, sample_rate, target_f0 / moved_f0, formant_shift)


def formant_resampled(audio: np.ndarray, formant_shift: float) -> np.ndarray:
    """The clip played faster by the formant ratio: formants and pitch up, length down.
    Sample k is read at k * formant_shift, whatever the clip's length (causal)."""
    positions = np.arange(int(len(audio) / formant_shift)) * formant_shift
    return np.interp(positions, np.arange(len(audio)), audio).astype(np.float32)


def pitch_periods(audio: np.ndarray, sample_rate: int, low_hz: float,
                  high_hz: float) -> np.ndarray:
    """The pitch period in samples every HOP_SECONDS (0 where unvoiced): the normalized
    autocorrelation of each frame, FRAMES_PER_BATCH frames at a time through one FFT
    (all of a long sentence's at once would hold 100 MB)."""
    frame, hop = int(FRAME_SECONDS * sample_rate), int(HOP_SECONDS * sample_rate)
    count = max(1, 1 + (len(audio) - frame) // hop)
    padded = np.pad(audio, (0, max(0, frame + hop * (count - 1) - len(audio))))
    window, size = np.hanning(frame), 1 << (2 * frame - 1).bit_length()
    # Divided by the window's own autocorrelation: long lags are not penalized.
    window_correlation = np.fft.irfft(np.abs(np.fft.rfft(window, size)) ** 2, size)[:frame]
    shortest, longest = int(sample_rate / high_hz), int(sample_rate / low_hz)
    periods = np.zeros(count, dtype=np.int64)
    for first in range(0, count, FRAMES_PER_BATCH):
        starts = hop * np.arange(first, min(first + FRAMES_PER_BATCH, count))
        frames = padded[np.arange(frame)[None, :] + starts[:, None]]
        frames = frames - frames.mean(axis=1, keepdims=True)
        spectrum = np.fft.rfft(frames * window, size)
        correlation = np.fft.irfft(np.abs(spectrum) ** 2, size)[:, :frame]
        correlation /= np.maximum(window_correlation, 1e-9)
        best = shortest + np.argmax(correlation[:, shortest:longest], axis=1)
        strength = (correlation[np.arange(len(starts)), best]
                    / np.maximum(correlation[:, 0], 1e-12))
        voiced = (strength > VOICING_THRESHOLD) & ((frames ** 2).mean(axis=1) > SILENCE_POWER)
        periods[first:first + len(starts)] = np.where(voiced, best, 0)
    return periods


def pitch_marks(audio: np.ndarray, periods: np.ndarray, hop: int,
                unvoiced_step: int) -> list[tuple[int, int, bool]]:
    """(centre, half-width, voiced) of every grain: one a period at the waveform's peak
    where voiced (so grains line up in phase), one every unvoiced_step elsewhere."""
    marks: list[tuple[int, int, bool]] = []
    at = 0
    while at < len(audio):
        period = int(periods[min(at // hop, len(periods) - 1)])
        if not period:
            marks.append((at + unvoiced_step // 2, unvoiced_step, False))
            at += unvoiced_step
            continue
        low, high = at, min(at + period, len(audio))
        if marks and marks[-1][2]:  # a period after the last mark, at the nearby peak
            guess = marks[-1][0] + period
            low, high = max(guess - period // 4, 0), min(guess + period // 4 + 1, len(audio))
            if high <= low:
                break
        centre = low + int(np.argmax(audio[low:high]))
        marks.append((centre, period, True))
        at = centre + 1
    return marks


def overlap_add(audio: np.ndarray, periods: np.ndarray, sample_rate: int,
                pitch_ratio: float, stretch: float) -> np.ndarray:
    """TD-PSOLA: grains at the pitch marks laid down pitch_ratio times closer where
    voiced, as they were where not, along an output `stretch` times as long."""
    hop, unvoiced_step = int(HOP_SECONDS * sample_rate), int(UNVOICED_GRAIN_SECONDS * sample_rate)
    marks = pitch_marks(audio, periods, hop, unvoiced_step)
    length = int(round(len(audio) * stretch))
    pad = int(periods.max(initial=0)) + unvoiced_step + 1
    source = np.pad(audio.astype(np.float64), pad)
    out, weight = np.zeros(length + 2 * pad), np.zeros(length + 2 * pad)
    windows: dict[int, np.ndarray] = {}
    at, nearest = 0.0, 0
    while at < length:
        wanted = at / stretch  # the source time this output time stands for
        while (nearest + 1 < len(marks)
               and abs(marks[nearest + 1][0] - wanted) <= abs(marks[nearest][0] - wanted)):
            nearest += 1
        centre, half, voiced = marks[nearest]
        window = windows.get(half)
        if window is None:
            window = windows[half] = np.hanning(2 * half + 2)[1:-1]
        start = pad + int(at) - half
        out[start:start + 2 * half] += source[pad + centre - half:pad + centre + half] * window
        weight[start:start + 2 * half] += window
        at += half / pitch_ratio if voiced else unvoiced_step
    # Dividing by the summed windows keeps the level where grains overlap more or less.
    return (out[pad:pad + length] / np.maximum(weight[pad:pad + length], 1e-3)).astype(np.float32)


def estimate_median_f0(audio: np.ndarray, sample_rate: int) -> float:
    """A cheap autocorrelation F0 estimate over voiced frames (enough to set a shift)."""
    frame = int(0.04 * sample_rate)
    hop = frame // 2
    # A 400 Hz ceiling: a wider lag range lets the second harmonic win (octave errors).
    lags = np.arange(int(sample_rate / 400), int(sample_rate / PITCH_FLOOR_HZ))
    overlap = frame - np.arange(frame)  # unbiased: long lags are not penalized
    estimates = []
    for start in range(0, len(audio) - frame, hop):
        chunk = audio[start:start + frame]
        if float(np.dot(chunk, chunk)) < 1e-5 * frame:  # silence
            continue
        chunk = chunk - chunk.mean()
        correlation = np.correlate(chunk, chunk, "full")[frame - 1:] / overlap
        best = lags[np.argmax(correlation[lags])]
        if correlation[best] > 0.5 * correlation[0]:
            estimates.append(sample_rate / best)
    return float(np.median(estimates)) if estimates else 0.0
