"""Audio output: the WAV sink, the player queue, and PortAudio on a null ALSA device."""

import asyncio
import os
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile

from edgecoach.audio import NullSink, Player, TeeSink, WavDirSink, make_output
from edgecoach.errors import AudioOutputError, VoiceError
from edgecoach.settings import AudioSettings
from edgecoach.voice import LineStream
from tests.conftest import REPO_ROOT

ALSA_NULL = REPO_ROOT / "tests" / "alsa-null.conf"


@dataclass
class Clip:
    audio: np.ndarray
    sample_rate: int = 22050

    def pieces(self) -> Iterator[np.ndarray]:
        yield self.audio


def tone(seconds: float = 0.2) -> Clip:
    samples = np.arange(int(22050 * seconds))
    return Clip((np.sin(samples * 0.05) * 8000).astype(np.int16))


class RecordingSpeaker:
    """A speaker double at the library boundary: records what it is asked to play, and
    holds each clip "playing" until `gate` opens or the line's stop event is set."""

    name = "recording"

    def __init__(self) -> None:
        self.labels: list[str] = []
        self.gate = threading.Event()
        self.gate.set()
        self.cut: list[str] = []

    def play(self, line: Clip, label: str, stop: threading.Event | None = None) -> None:
        self.labels.append(label)
        for _ in range(1000):  # 5 s at most, so a failing test cannot hang the suite
            if self.gate.wait(0.005):
                return
            if stop is not None and stop.is_set():
                self.cut.append(label)
                return


def test_wav_sink_writes_valid_numbered_files(tmp_path: Path) -> None:
    sink = WavDirSink(tmp_path / "out")
    clip = tone(0.5)
    sink.play(clip, "set-end")
    sink.play(clip, "workout-end")
    assert [path.name for path in sink.written] == ["0001-set-end.wav", "0002-workout-end.wav"]
    with wave.open(str(sink.written[0])) as file:
        assert (file.getnchannels(), file.getsampwidth(), file.getframerate()) == (1, 2, 22050)
        frames = np.frombuffer(file.readframes(file.getnframes()), dtype=np.int16)
    assert np.array_equal(frames, clip.audio)
    samples, rate = soundfile.read(sink.written[1], dtype="int16")
    assert rate == 22050 and np.array_equal(samples, clip.audio)


def test_a_wav_sink_on_an_existing_folder_goes_on_numbering(tmp_path: Path) -> None:
    WavDirSink(tmp_path).play(tone(), "one")
    again = WavDirSink(tmp_path)
    again.play(tone(), "two")
    assert again.written[0].name == "0002-two.wav"


def test_a_tee_writes_every_sink(tmp_path: Path) -> None:
    first, second = WavDirSink(tmp_path / "a"), WavDirSink(tmp_path / "b")
    tee = TeeSink(first, NullSink(), second)
    tee.play(tone(), "x")
    assert tee.name == "wav+none+wav" and len(first.written) == len(second.written) == 1


def streamed(pieces: list[np.ndarray], delay: float) -> LineStream:
    """A line whose first piece is there and whose others come from another thread."""
    stream = LineStream("streamed", 22050, "key", live=True)
    stream.append(pieces[0])

    def synthesize() -> None:
        for piece in pieces[1:]:
            time.sleep(delay)
            stream.append(piece)
        stream.finish()

    threading.Thread(target=synthesize).start()
    return stream


def test_every_sink_of_a_tee_gets_a_streamed_line_whole(tmp_path: Path) -> None:
    pieces = [tone(0.1).audio, tone(0.2).audio, tone(0.05).audio]
    first, second = WavDirSink(tmp_path / "a"), WavDirSink(tmp_path / "b")
    TeeSink(first, second).play(streamed(pieces, 0.05), "x")
    for sink in (first, second):
        samples, _ = soundfile.read(sink.written[0], dtype="int16")
        assert np.array_equal(samples, np.concatenate(pieces))


def test_a_failed_synthesis_ends_the_walk_of_its_pieces() -> None:
    stream = LineStream("broken", 22050, "key", live=True)
    stream.append(tone().audio)
    stream.finish(VoiceError("voice alice: synthesis failed: out of memory"))
    walk = stream.pieces()
    assert len(next(walk)) == len(tone().audio)
    with pytest.raises(VoiceError, match="out of memory"):
        next(walk)
    stream.wait_first()  # a first piece was made: playing may start
    with pytest.raises(VoiceError):
        stream.result()


async def test_player_plays_in_order() -> None:
    speaker = RecordingSpeaker()
    player = Player(speaker)
    await player.start()
    for label in ("a", "b", "c"):
        player.enqueue(tone(), 5, label)
    await asyncio.wait_for(player.drain(), 5)
    assert speaker.labels == ["a", "b", "c"] and list(player.played) == ["a", "b", "c"]
    await player.close()


async def test_the_event_loop_runs_while_a_line_plays() -> None:
    speaker = RecordingSpeaker()
    speaker.gate.clear()
    player = Player(speaker)
    await player.start()
    player.enqueue(tone(), 5, "long")
    ticks = 0
    for _ in range(10):
        await asyncio.sleep(0.01)
        ticks += 1
    assert ticks == 10 and player.playing is not None and player.playing.label == "long"
    speaker.gate.set()
    await asyncio.wait_for(player.drain(), 5)
    await player.close()


async def test_higher_priority_cuts_lower_lines_not_started() -> None:
    speaker = RecordingSpeaker()
    speaker.gate.clear()
    player = Player(speaker)
    await player.start()
    player.enqueue(tone(), 5, "playing")
    await asyncio.sleep(0.05)
    player.enqueue(tone(), 5, "set-end")
    player.enqueue(tone(), 4, "strainsync")
    assert player.queued == 2  # a lower line behind a higher one waits its turn
    player.enqueue(tone(), 10, "workout-end")
    player.enqueue(tone(), 3, "hr-zone")
    speaker.gate.set()
    await asyncio.wait_for(player.drain(), 5)
    # The line playing is never cut by priority; a lower line after a higher one waits.
    assert speaker.labels == ["playing", "workout-end", "hr-zone"]
    assert list(player.dropped) == ["set-end", "strainsync"]
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
    assert speaker.labels == ["one"] and speaker.cut == ["one"]
    assert list(player.dropped) == ["two", "one"] and not player.played
    player.enqueue(tone(), 5, "after")  # the player goes on after a stop
    speaker.gate.set()
    await asyncio.wait_for(player.drain(), 5)
    assert list(player.played) == ["after"]
    await player.close()


async def test_a_failing_device_does_not_stop_the_player(caplog) -> None:
    class Broken:
        name = "broken"

        def play(self, *args: object) -> None:
            raise OSError("device unplugged")

    player = Player(Broken())
    await player.start()
    player.enqueue(tone(), 5, "x")
    player.enqueue(tone(), 5, "y")
    await asyncio.wait_for(player.drain(), 5)
    assert caplog.text.count("device unplugged") == 2
    await player.close()


def test_outputs_by_setting(tmp_path: Path) -> None:
    assert isinstance(make_output(AudioSettings(output="none")), NullSink)
    assert isinstance(make_output(AudioSettings(output="wav", wav_dir=tmp_path)), WavDirSink)
    with pytest.raises(AudioOutputError, match="wav_dir"):
        make_output(AudioSettings(output="wav"))


# PortAudio reads the ALSA configuration when it initializes (on import of sounddevice),
# so each of these runs in a fresh interpreter with its own ALSA_CONFIG_PATH.
PORTAUDIO_SCRIPT = """
import threading, time
import numpy as np
from edgecoach.audio import SoundDeviceSink, make_output
from edgecoach.settings import AudioSettings
from edgecoach.voice import LineStream, SpokenLine
sink = make_output(AudioSettings(output="{output}"))
print(type(sink).__name__)
if isinstance(sink, SoundDeviceSink):
    line = SpokenLine("test", np.zeros(22050, dtype=np.int16), 22050, "key", True, 0.0)
    sink.play(line, "test")
    print("played")
    stream = LineStream("stream", 22050, "key", live=True)
    stream.append(np.zeros(2205, dtype=np.int16))
    def synthesize():
        time.sleep(0.3)  # the device runs dry: a gap, not an error
        stream.append(np.zeros(2205, dtype=np.int16))
        stream.finish()
    threading.Thread(target=synthesize).start()
    sink.play(stream, "stream")
    print("streamed")
    stop = threading.Event()
    stop.set()
    started = time.perf_counter()
    sink.play(SpokenLine("cut", np.zeros(22050 * 60, dtype=np.int16), 22050, "key", True, 0),
              "cut", stop)
    print("cut" if time.perf_counter() - started < 1 else "not-cut")
"""


def run_with_alsa(config: Path | None, output: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if config:
        env["ALSA_CONFIG_PATH"] = str(config)
    return subprocess.run([sys.executable, "-c", PORTAUDIO_SCRIPT.format(output=output)],
                          capture_output=True, text=True, env=env, timeout=60)


def test_sounddevice_plays_through_portaudio_on_a_null_alsa_device() -> None:
    done = run_with_alsa(ALSA_NULL, "auto")
    assert done.stdout.split() == ["SoundDeviceSink", "played", "streamed", "cut"], done.stderr


def test_without_an_output_device_auto_is_silent_and_says_why(tmp_path: Path) -> None:
    empty = tmp_path / "no-card.conf"  # the default device is a sound card that is not there
    empty.write_text("pcm.!default { type hw card 9 }\nctl.!default { type hw card 9 }\n")
    done = run_with_alsa(empty, "auto")
    assert done.stdout.split() == ["NullSink"]
    assert done.stderr.count("no audio output") == 1
    strict = run_with_alsa(empty, "sounddevice")
    assert strict.returncode != 0 and "AudioOutputError" in strict.stderr
