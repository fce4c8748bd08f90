"""Audio output: the WAV sink, the player queue, and PortAudio on a null ALSA device."""

import asyncio
import os
import subprocess
import sys
import threading
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from edgecoach.audio import NullSink, Player, WavDirSink, make_output
from edgecoach.errors import AudioOutputError
from edgecoach.settings import AudioSettings
from tests.conftest import REPO_ROOT


@dataclass
class Clip:
    audio: np.ndarray
    sample_rate: int = 22050


def tone(seconds: float = 0.2) -> Clip:
    samples = np.arange(int(22050 * seconds))
    return Clip((np.sin(samples * 0.05) * 8000).astype(np.int16))


class RecordingSpeaker:
    """A speaker double: records what it is asked to play; `gate` holds a clip playing."""

    name = "recording"

    def __init__(self) -> None:
        self.labels: list[str] = []
        self.gate = threading.Event()
        self.gate.set()
        self.stopped = 0

    def play(self, samples: np.ndarray, sample_rate: int, label: str) -> None:
        self.labels.append(label)
        self.gate.wait(5)

    def stop(self) -> None:
        self.stopped += 1
        self.gate.set()


def test_wav_sink_writes_valid_numbered_files(tmp_path: Path) -> None:
    sink = WavDirSink(tmp_path / "out")
    clip = tone(0.5)
    sink.play(clip.audio, clip.sample_rate, "set-end")
    sink.play(clip.audio, clip.sample_rate, "workout-end")
    assert [path.name for path in sink.written] == ["0001-set-end.wav", "0002-workout-end.wav"]
    with wave.open(str(sink.written[0])) as file:
        assert (file.getnchannels(), file.getsampwidth(), file.getframerate()) == (1, 2, 22050)
        frames = np.frombuffer(file.readframes(file.getnframes()), dtype=np.int16)
    assert np.array_equal(frames, clip.audio)


async def test_player_plays_in_order() -> None:
    speaker = RecordingSpeaker()
    player = Player(speaker)
    await player.start()
    for label in ("a", "b", "c"):
        player.enqueue(tone(), 5, label)
    await asyncio.wait_for(player.drain(), 5)
    assert speaker.labels == ["a", "b", "c"]
    await player.close()


async def test_higher_priority_cuts_lower_lines_not_started() -> None:
    speaker = RecordingSpeaker()
    speaker.gate.clear()
    player = Player(speaker)
    await player.start()
    player.enqueue(tone(), 5, "playing")
    await asyncio.sleep(0.05)
    player.enqueue(tone(), 4, "strainsync")
    player.enqueue(tone(), 10, "workout-end")
    speaker.gate.set()
    await asyncio.wait_for(player.drain(), 5)
    assert speaker.labels == ["playing", "workout-end"]
    assert player.dropped == ["strainsync"]
    await player.close()


async def test_stop_now_cuts_the_line_and_empties_the_queue() -> None:
    speaker = RecordingSpeaker()
    speaker.gate.clear()
    player = Player(speaker)
    await player.start()
    player.enqueue(tone(), 5, "one")
    player.enqueue(tone(), 5, "two")
    await asyncio.sleep(0.05)
    player.stop_now()
    await asyncio.wait_for(player.drain(), 5)
    assert speaker.labels == ["one"] and speaker.stopped == 1 and player.dropped == ["two"]
    await player.close()


def test_outputs_by_setting(tmp_path: Path) -> None:
    assert isinstance(make_output(AudioSettings(output="none")), NullSink)
    assert isinstance(make_output(AudioSettings(output="wav", wav_dir=tmp_path)), WavDirSink)
    with pytest.raises(AudioOutputError, match="wav_dir"):
        make_output(AudioSettings(output="wav"))


PORTAUDIO_SCRIPT = """
import numpy as np
from edgecoach.audio import SoundDeviceSink, make_output
from edgecoach.settings import AudioSettings
sink = make_output(AudioSettings(output="{output}"))
print(type(sink).__name__)
if isinstance(sink, SoundDeviceSink):
    sink.play(np.zeros(22050, dtype=np.int16), 22050, "test")
    print("played")
"""


def run_with_alsa(config: Path | None, output: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if config:
        env["ALSA_CONFIG_PATH"] = str(config)
    return subprocess.run([sys.executable, "-c", PORTAUDIO_SCRIPT.format(output=output)],
                          capture_output=True, text=True, env=env, timeout=60)


def test_sounddevice_plays_through_portaudio_on_a_null_alsa_device() -> None:
    done = run_with_alsa(REPO_ROOT / "tests" / "alsa-null.conf", "auto")
    assert done.stdout.split() == ["SoundDeviceSink", "played"], done.stderr


def test_without_an_output_device_auto_is_silent_and_says_why(tmp_path: Path) -> None:
    empty = tmp_path / "no-card.conf"  # the default device is a sound card that is not there
    empty.write_text("pcm.!default { type hw card 9 }\nctl.!default { type hw card 9 }\n")
    done = run_with_alsa(empty, "auto")
    assert done.stdout.split() == ["NullSink"]
    assert "no audio output" in done.stderr
    strict = run_with_alsa(empty, "sounddevice")
    assert strict.returncode != 0 and "AudioOutputError" in strict.stderr
