"""One persona's voice: a loaded Piper model, its synthesis settings and treatment."""

import hashlib
import json
import logging
from dataclasses import dataclass

import numpy as np
from piper import PiperVoice, SynthesisConfig
from piper.config import PiperConfig

from edgecoach.contract import VoiceSettings
from edgecoach.errors import VoiceError
from edgecoach.memory import release_freed_heap
from edgecoach.paths import cache_dir
from edgecoach.voice.manifest import VoiceFiles
from edgecoach.voice.treatment import RubberBandShift
from edgecoach.voice.vits import load_vits_session

log = logging.getLogger(__name__)

# Spoken once at load: the treatment measures the untreated voice's median F0 on it.
CALIBRATION_TEXT = "Good work today. Take a breath, stay steady, and get ready for the next set."
# A treated clip is scaled down rather than clipped (Piper normalizes each sentence to a
# peak of 1.0, and the pitch shift overshoots it a little).
TREATED_PEAK = 0.98


@dataclass(frozen=True)
class Audio:
    samples: np.ndarray  # int16 mono
    sample_rate: int

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.sample_rate


def load_piper(files: VoiceFiles) -> PiperVoice:
    """Load the model once; a broken file becomes a VoiceError naming that file."""
    try:
        config = PiperConfig.from_dict(json.loads(files.config.read_text(encoding="utf-8")))
        session = load_vits_session(files.model, files.sha256, cache_dir())
    except Exception as error:  # onnx, onnxruntime and piper's config raise many kinds
        raise VoiceError(f"{files.model}: cannot load Piper voice: {error}") from None
    return PiperVoice(session=session, config=config)  # type: ignore[arg-type]


class PersonaVoice:
    """Synthesizes text for one persona; call from one worker thread at a time."""

    def __init__(self, persona_id: str, piper: PiperVoice, files: VoiceFiles,
                 settings: VoiceSettings, treatment: RubberBandShift | None = None) -> None:
        self.persona_id = persona_id
        self.piper = piper
        self.files = files
        self.settings = settings
        self.sample_rate: int = piper.config.sample_rate
        self.config = SynthesisConfig(
            speaker_id=settings.speaker_id, length_scale=settings.length_scale,
            noise_scale=settings.noise_scale, noise_w_scale=settings.noise_w_scale,
            volume=settings.volume)
        # Settings without a target pitch leave the voice untreated.
        self.treatment = treatment if settings.pitch_median_hz is not None else None
        if self.treatment is not None:
            # Without noise the clip, and so the shift, is the same at every start.
            steady = SynthesisConfig(speaker_id=settings.speaker_id, noise_scale=0.0,
                                     noise_w_scale=0.0)
            self.treatment.calibrate(lambda: self._piper_float(CALIBRATION_TEXT, steady),
                                     self.sample_rate)
            log.info("voice %s: %s to a median F0 of %.0f Hz, formants x%.2f", persona_id,
                     self.treatment.name, settings.pitch_median_hz, settings.formant_shift)

    @property
    def fingerprint(self) -> str:
        """Everything that changes the sound: part of every cache key."""
        settings = json.dumps(self.settings.model_dump(mode="json"), sort_keys=True)
        engine = self.treatment.name if self.treatment else "untreated"
        return hashlib.sha256(
            f"{self.files.voice_id}|{self.files.sha256}|{settings}|{engine}".encode()
        ).hexdigest()

    def _chunks(self, text: str, config: SynthesisConfig | None = None) -> list:
        chunks = list(self.piper.synthesize(text, syn_config=config or self.config))
        if not chunks:
            raise VoiceError(f"voice {self.persona_id}: Piper produced no audio for {text!r}")
        return chunks

    def _piper_float(self, text: str, config: SynthesisConfig | None = None) -> np.ndarray:
        return np.concatenate([chunk.audio_float_array
                               for chunk in self._chunks(text, config)])

    def synthesize(self, text: str) -> Audio:
        """The line as int16 mono audio (blocking: ONNX inference, then the treatment)."""
        try:
            return self._synthesize(text)
        finally:
            release_freed_heap()

    def _synthesize(self, text: str) -> Audio:
        chunks = self._chunks(text)
        if self.treatment is None:
            # Exactly what Piper's own synthesize_wav writes: no extra pass over the audio.
            samples = [chunk.audio_int16_array for chunk in chunks]
        else:
            # Sentence by sentence: the treatment's working memory is one sentence's.
            samples = [self._treat(chunk.audio_float_array) for chunk in chunks]
        return Audio(np.concatenate(samples), self.sample_rate)

    def _treat(self, source: np.ndarray) -> np.ndarray:
        assert self.treatment is not None and self.settings.pitch_median_hz is not None
        treated = self.treatment(source, self.sample_rate, self.settings.pitch_median_hz,
                                 self.settings.formant_shift)
        # Keep the untreated peak (so `volume` still counts), just under full scale.
        limit = min(TREATED_PEAK, float(np.max(np.abs(source))))
        peak = float(np.max(np.abs(treated))) if len(treated) else 0.0
        if peak > limit > 0:
            treated *= limit / peak
        return (treated * 32767).astype(np.int16)
