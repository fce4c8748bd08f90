"""One persona's voice: a loaded Piper model, its synthesis settings and treatment."""

import hashlib
import json
import logging
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import onnxruntime
from piper import PiperVoice, SynthesisConfig
from piper.config import PiperConfig

from edgecoach.contract import VoiceSettings
from edgecoach.errors import VoiceError
from edgecoach.memory import release_freed_heap
from edgecoach.paths import cache_dir
from edgecoach.voice.manifest import VoiceFiles
from edgecoach.voice.treatment import LOOKAHEAD_SECONDS, PsolaShift
from edgecoach.voice.vits import load_vits_session, sentence_audio

log = logging.getLogger(__name__)

# Spoken once at load, without noise: it sets the voice's gain and, for a treated
# voice, the source F0 the treatment shifts from.
CALIBRATION_TEXT = "Good work today. Take a breath, stay steady, and get ready for the next set."
# A line streams, so no sentence can be scaled to its own peak as Piper does: each voice
# gets one gain, which brings the calibration clip to this loudness (RMS, dBFS). Over
# the corpus it keeps 95 % of sentence peaks under the limiter's knee, and sentences
# vary less in loudness than under peak normalization (4.1 against 5.3 dB, p5-p95).
LOUDNESS_DBFS = -23.0
LIMIT_KNEE = 0.85  # above it, peaks bend smoothly toward full scale instead of clipping
NO_AUDIO = np.zeros(0, dtype=np.int16)


@dataclass(frozen=True)
class Audio:
    samples: np.ndarray  # int16 mono
    sample_rate: int

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.sample_rate


def load_piper(files: VoiceFiles, threads: int | None = None) -> PiperVoice:
    """Load the model once; a broken file becomes a VoiceError naming that file."""
    try:
        config = PiperConfig.from_dict(json.loads(files.config.read_text(encoding="utf-8")))
        session = load_vits_session(files.model, files.sha256, cache_dir(), threads)
    except Exception as error:  # onnx, onnxruntime and piper's config raise many kinds
        raise VoiceError(f"{files.model}: cannot load Piper voice: {error}") from None
    return PiperVoice(session=session, config=config)  # type: ignore[arg-type]


def soft_limit(audio: np.ndarray) -> np.ndarray:
    """float audio to int16; peaks above the knee bend toward full scale (no clipping)."""
    magnitude = np.abs(audio)
    room = 1.0 - LIMIT_KNEE
    bent = np.sign(audio) * (LIMIT_KNEE + room * np.tanh((magnitude - LIMIT_KNEE) / room))
    return (np.where(magnitude > LIMIT_KNEE, bent, audio) * 32767).astype(np.int16)


class PersonaVoice:
    """Synthesizes text for one persona; one synthesis step at a time (VoiceService)."""

    def __init__(self, persona_id: str, piper: PiperVoice, files: VoiceFiles,
                 settings: VoiceSettings, treatment: PsolaShift | None = None) -> None:
        self.persona_id = persona_id
        self.piper = piper
        self.files = files
        self.settings = settings
        self.sample_rate: int = piper.config.sample_rate
        # Piper's own settings object: what bare Piper is run with in the benchmark.
        self.config = SynthesisConfig(
            speaker_id=settings.speaker_id, length_scale=settings.length_scale,
            noise_scale=settings.noise_scale, noise_w_scale=settings.noise_w_scale,
            volume=settings.volume)
        # Settings without a target pitch leave the voice untreated.
        self.treatment = treatment if settings.pitch_median_hz is not None else None
        clip = self._raw(CALIBRATION_TEXT, noise=False)
        loudness = float(np.sqrt(np.mean(clip ** 2)))
        if loudness <= 0:
            raise VoiceError(f"voice {persona_id}: the calibration clip is silent")
        self.gain = 10 ** (LOUDNESS_DBFS / 20) / loudness * settings.volume
        if self.treatment is not None:
            self.treatment.calibrate(clip, self.sample_rate)
            log.info("voice %s: %s to a median F0 of %.0f Hz, formants x%.2f", persona_id,
                     self.treatment.name, settings.pitch_median_hz, settings.formant_shift)

    @cached_property
    def fingerprint(self) -> str:
        """Everything that changes the sound: part of every cache key."""
        settings = json.dumps(self.settings.model_dump(mode="json"), sort_keys=True)
        engine = self.treatment.name if self.treatment else "untreated"
        return hashlib.sha256(
            f"{self.files.voice_id}|{self.files.sha256}|{settings}|{engine}|{LOUDNESS_DBFS}".encode()
        ).hexdigest()

    def synthesize(self, text: str) -> Audio:
        """The whole line as int16 mono audio (blocking)."""
        return Audio(np.concatenate(list(self.pieces(text))), self.sample_rate)

    def pieces(self, text: str, run_options: onnxruntime.RunOptions | None = None,
               quick_start: bool = True) -> Generator[np.ndarray, None, None]:
        """The line as int16 pieces, each yielded as soon as it is made (blocking).

        A piece is a decoder window (treated, what it made final), with empty pieces
        between them (points where it may be paused). A run cut short through
        `run_options.terminate` yields an empty piece and runs again on the next step
        (vits.preemptible). `quick_start` False (speculation: nobody waits yet): long
        windows from the start, less work (vits.SplitVitsSession.stream).
        """
        sentences = [phonemes for phonemes in self.piper.phonemize(text) if phonemes]
        if not sentences:
            raise VoiceError(f"voice {self.persona_id}: Piper produced no audio for {text!r}")
        try:
            for phonemes in sentences:
                windows = (window * self.gain
                           for window in self._windows(phonemes, run_options=run_options,
                                                       quick_start=quick_start))
                if self.treatment is None:
                    yield from (soft_limit(window) for window in windows)
                else:
                    yield from self._treated(windows)
        finally:
            release_freed_heap()

    def _raw(self, text: str, noise: bool = True) -> np.ndarray:
        """Float audio as the model makes it: no gain, no treatment."""
        return np.concatenate([window for phonemes in self.piper.phonemize(text) if phonemes
                               for window in self._windows(phonemes, noise)])

    def _windows(self, phonemes: list[str], noise: bool = True,
                 run_options: onnxruntime.RunOptions | None = None,
                 quick_start: bool = True) -> Iterator[np.ndarray]:
        ids = self.piper.phonemes_to_ids(phonemes)
        settings = self.settings
        # Piper's own inputs (PiperVoice.phoneme_ids_to_audio), noise off to calibrate.
        scales = [settings.noise_scale if noise else 0.0, settings.length_scale,
                  settings.noise_w_scale if noise else 0.0]
        feed = {"input": np.array([ids], dtype=np.int64),
                "input_lengths": np.array([len(ids)], dtype=np.int64),
                "scales": np.array(scales, dtype=np.float32)}
        config = self.piper.config
        if config.num_speakers > 1:
            speaker = settings.speaker_id
            feed["sid"] = np.array([config.default_speaker_id if speaker is None else speaker],
                                   dtype=np.int64)
        yield from sentence_audio(self.piper.session, feed, run_options, quick_start)

    def _treated(self, windows: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
        """A sentence treated as its windows come. The treatment is causal (treatment.py):
        the audio decoded so far, treated, is final but for its last LOOKAHEAD_SECONDS,
        so the pieces join with no seam and make the sentence treated whole. Each window
        treats the sentence so far again (5 ms a second of speech here): a sentence whose
        rest was treated once, at its end, left gaps at load 3-4 (2 of 30 corpus lines,
        up to 0.3 s). Empty pieces are points to pause (VoiceService)."""
        decoded: list[np.ndarray] = []
        made, treated = 0, np.zeros(0, dtype=np.float32)  # samples yielded; the treatment
        lookahead = int(LOOKAHEAD_SECONDS * self.sample_rate)
        for window in windows:
            yield NO_AUDIO  # after a decoder run, before a treatment: a point to pause
            if not len(window):  # a run cut short (vits.preemptible)
                continue
            decoded.append(window)
            treated = self._treat(np.concatenate(decoded))
            final = max(made, len(treated) - lookahead)
            yield soft_limit(treated[made:final])
            made = final
        yield soft_limit(treated[made:])

    def _treat(self, source: np.ndarray) -> np.ndarray:
        assert self.treatment is not None and self.settings.pitch_median_hz is not None
        return self.treatment(source, self.sample_rate, self.settings.pitch_median_hz,
                              self.settings.formant_shift)
