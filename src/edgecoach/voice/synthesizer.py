"""One persona's voice: a loaded Piper model, its synthesis settings and treatment."""

import hashlib
import json
import logging
import time
from dataclasses import dataclass

import numpy as np
from piper import PiperVoice, SynthesisConfig

from edgecoach.contract import VoiceSettings
from edgecoach.errors import VoiceError
from edgecoach.voice.manifest import VoiceFiles
from edgecoach.voice.treatment import change_speaker, estimate_median_f0

log = logging.getLogger(__name__)

# Spoken once at load to measure the untreated voice's pitch, so the treatment is one
# fixed shift per persona (the line's own intonation is kept).
CALIBRATION_TEXT = "Good work today. Take a breath, stay steady, and get ready for the next set."


@dataclass(frozen=True)
class Audio:
    samples: np.ndarray  # int16 mono
    sample_rate: int

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.sample_rate


def load_piper(files: VoiceFiles) -> PiperVoice:
    try:
        return PiperVoice.load(files.model, config_path=files.config)
    except Exception as error:  # onnxruntime/json raise many kinds for a bad file
        raise VoiceError(f"{files.model}: cannot load Piper voice: {error}") from None


class PersonaVoice:
    """Synthesizes text for one persona; safe to call from one worker thread at a time."""

    def __init__(self, persona_id: str, piper: PiperVoice, files: VoiceFiles,
                 settings: VoiceSettings) -> None:
        self.persona_id = persona_id
        self.piper = piper
        self.files = files
        self.settings = settings
        self.sample_rate = piper.config.sample_rate
        self.config = SynthesisConfig(
            speaker_id=settings.speaker_id, length_scale=settings.length_scale,
            noise_scale=settings.noise_scale, noise_w_scale=settings.noise_w_scale,
            volume=settings.volume)
        self.source_f0 = 0.0
        if settings.pitch_median_hz is not None:
            self.source_f0 = estimate_median_f0(self._piper_float(CALIBRATION_TEXT),
                                                self.sample_rate)
            log.info("voice %s: source median F0 %.0f Hz -> %.0f Hz, formants x%.2f",
                     persona_id, self.source_f0, settings.pitch_median_hz,
                     settings.formant_shift)

    @property
    def fingerprint(self) -> str:
        """Everything that changes the sound: part of every cache key."""
        settings = json.dumps(self.settings.to_json_dict(), sort_keys=True)
        return hashlib.sha256(f"{self.files.voice_id}|{self.files.sha256}|{settings}".encode()
                              ).hexdigest()

    def _piper_float(self, text: str) -> np.ndarray:
        chunks = [chunk.audio_float_array for chunk in
                  self.piper.synthesize(text, syn_config=self.config)]
        if not chunks:
            raise VoiceError(f"voice {self.persona_id}: Piper produced no audio for {text!r}")
        return np.concatenate(chunks).astype(np.float32)

    def synthesize(self, text: str) -> tuple[Audio, float]:
        """The line as int16 audio, and the synthesis time in ms."""
        started = time.perf_counter()
        audio = self._piper_float(text)
        if self.settings.pitch_median_hz is not None and self.source_f0 > 0:
            audio = change_speaker(audio, self.sample_rate, self.source_f0,
                                   self.settings.pitch_median_hz, self.settings.formant_shift)
        samples = (np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16)
        return Audio(samples, self.sample_rate), (time.perf_counter() - started) * 1000
