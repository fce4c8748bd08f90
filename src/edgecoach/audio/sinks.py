"""Where spoken lines go: the default sound device, a folder of WAV files, or nowhere."""

import logging
import threading
import wave
from pathlib import Path
from typing import Protocol

import numpy as np

from edgecoach.errors import AudioOutputError
from edgecoach.settings import AudioSettings

log = logging.getLogger(__name__)


class AudioSink(Protocol):
    """Plays one clip to the end (blocking, called from a worker thread); `stop` cuts it."""

    name: str

    def play(self, samples: np.ndarray, sample_rate: int, label: str) -> None: ...

    def stop(self) -> None: ...


class NullSink:
    name = "none"

    def play(self, samples: np.ndarray, sample_rate: int, label: str) -> None:
        return None

    def stop(self) -> None:
        return None


class WavDirSink:
    """Numbered WAV files (0001-set-end.wav, ...) for headless runs and the demo."""

    name = "wav"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.count = len(list(directory.glob("*.wav")))
        self.written: list[Path] = []

    def play(self, samples: np.ndarray, sample_rate: int, label: str) -> None:
        self.count += 1
        path = self.directory / f"{self.count:04d}-{label}.wav"
        self.write(path, samples, sample_rate)
        self.written.append(path)

    @staticmethod
    def write(path: Path, samples: np.ndarray, sample_rate: int) -> None:
        with wave.open(str(path), "wb") as file:
            file.setnchannels(1)
            file.setsampwidth(2)
            file.setframerate(sample_rate)
            file.writeframes(np.asarray(samples, dtype=np.int16).tobytes())

    def stop(self) -> None:
        return None


class SoundDeviceSink:
    """The default output device through PortAudio (earbuds when they are the default)."""

    name = "sounddevice"

    def __init__(self) -> None:
        import sounddevice

        self.sd = sounddevice
        self._stopped = threading.Event()

    def play(self, samples: np.ndarray, sample_rate: int, label: str) -> None:
        self._stopped.clear()
        self.sd.play(samples, sample_rate)
        self.sd.wait()

    def stop(self) -> None:
        self._stopped.set()
        self.sd.stop()


class TeeSink:
    """Several sinks at once (the demo writes WAV files and plays them when it can)."""

    def __init__(self, *sinks: AudioSink) -> None:
        self.sinks = sinks
        self.name = "+".join(sink.name for sink in sinks)

    def play(self, samples: np.ndarray, sample_rate: int, label: str) -> None:
        for sink in self.sinks:
            sink.play(samples, sample_rate, label)

    def stop(self) -> None:
        for sink in self.sinks:
            sink.stop()


def output_device_problem() -> str | None:
    """Why the default output device cannot play, or None when it can."""
    try:
        import sounddevice
    except OSError as error:  # libportaudio2 missing
        return f"PortAudio is not available ({error})"
    try:
        device = sounddevice.query_devices(kind="output")
    except Exception as error:  # PortAudioError, ValueError: no default output device
        return f"no default output device ({error})"
    if not device or device.get("max_output_channels", 0) < 1:
        return "the default device has no output channels"
    return None


def make_output(settings: AudioSettings) -> AudioSink:
    """The sink the settings ask for; `auto` falls back to silence and says why, once."""
    if settings.output == "none":
        return NullSink()
    if settings.output == "wav":
        if settings.wav_dir is None:
            raise AudioOutputError("audio.output = 'wav' needs audio.wav_dir")
        return WavDirSink(settings.wav_dir)
    problem = output_device_problem()
    if problem is None:
        return SoundDeviceSink()
    if settings.output == "sounddevice":
        raise AudioOutputError(f"audio.output = 'sounddevice' but {problem}")
    log.warning("no audio output: %s; coaching goes on silently", problem)
    return NullSink()
