"""Where spoken lines go: the default sound device, a folder of WAV files, or nowhere.

A sink's `play` is blocking (the player calls it from a worker thread) and returns early
when its `stop` event is set: that is how a line is cut the moment the earbuds go.
"""

import logging
import os
import threading
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import numpy as np

from edgecoach.errors import AudioOutputError
from edgecoach.settings import AudioSettings

log = logging.getLogger(__name__)

# Audio is written to the device in blocks this long, so a stop takes effect within one.
BLOCK_SECONDS = 0.05


class Playable(Protocol):
    """A line to play: a SpokenLine, a LineStream still being made, an earcon."""

    @property
    def sample_rate(self) -> int: ...

    def pieces(self) -> Iterator[np.ndarray]:
        """int16 mono audio, piece by piece (blocking while the next is being made)."""
        ...


class AudioSink(Protocol):
    """Plays one line to the end, or until `stop` is set."""

    name: str

    def play(self, line: Playable, label: str, stop: threading.Event | None = None) -> None: ...


class NullSink:
    """Plays nothing, at once (no device, or audio.output = "none")."""

    name = "none"

    def play(self, line: Playable, label: str, stop: threading.Event | None = None) -> None:
        return None


class WavDirSink:
    """Numbered WAV files (0001-set-end.wav, ...) for headless runs and the demo."""

    name = "wav"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.count = len(list(directory.glob("*.wav")))  # a rerun goes on numbering
        self.written: list[Path] = []
        # The first file that could not be written (a full disk): later lines are not
        # tried, and the run ends with this error rather than with a folder missing lines.
        self.failure: AudioOutputError | None = None

    def play(self, line: Playable, label: str, stop: threading.Event | None = None) -> None:
        if self.failure is not None:
            return
        self.count += 1
        path = self.directory / f"{self.count:04d}-{label}.wav"
        try:
            self.write(path, np.concatenate(list(line.pieces())), line.sample_rate)
        except AudioOutputError as error:
            self.failure = error
            raise
        self.written.append(path)

    @staticmethod
    def write(path: Path, samples: np.ndarray, sample_rate: int) -> None:
        """One 16-bit mono WAV file, whole or not at all: written beside it, then renamed,
        so a full disk leaves no truncated file that looks like a line."""
        partial = path.with_name(f".{path.name}.partial")
        try:
            # Opened here, not by wave.open: its writer fails again in __del__ when the
            # open itself fails.
            with partial.open("wb") as raw, wave.open(raw, "wb") as file:
                file.setnchannels(1)
                file.setsampwidth(2)
                file.setframerate(sample_rate)
                file.writeframes(np.asarray(samples, dtype=np.int16).tobytes())
            os.replace(partial, path)
        except OSError as error:
            partial.unlink(missing_ok=True)
            raise AudioOutputError(f"{path}: {error.strerror or error}") from None


class SoundDeviceSink:
    """The default output device through PortAudio (the earbuds when they are the default).

    One stream per line: an idle stream would keep a Bluetooth link in its audio profile.
    """

    name = "sounddevice"

    def __init__(self) -> None:
        import sounddevice

        self._sd = sounddevice

    def play(self, line: Playable, label: str, stop: threading.Event | None = None) -> None:
        block = max(1, int(line.sample_rate * BLOCK_SECONDS))
        with self._sd.OutputStream(samplerate=line.sample_rate, channels=1,
                                   dtype="int16") as out:
            for piece in line.pieces():
                samples = np.ascontiguousarray(piece, dtype=np.int16).reshape(-1, 1)
                for start in range(0, len(samples), block):
                    if stop is not None and stop.is_set():
                        out.abort()  # drop what the device still buffers: silence now
                        return
                    out.write(samples[start:start + block])


class TeeSink:
    """Several sinks in turn (the demo writes WAV files and plays them when it can)."""

    def __init__(self, *sinks: AudioSink) -> None:
        self.sinks = sinks
        self.name = "+".join(sink.name for sink in sinks)

    def wav_failure(self) -> AudioOutputError | None:
        """Why a WAV file of the run could not be written, if one could not."""
        return next((sink.failure for sink in self.sinks
                     if isinstance(sink, WavDirSink) and sink.failure), None)

    def play(self, line: Playable, label: str, stop: threading.Event | None = None) -> None:
        for sink in self.sinks:
            sink.play(line, label, stop)


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
