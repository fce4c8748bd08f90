"""`edgecoach say` as a user runs it: real voice, real cache file, a WAV out."""

import json
import wave
from pathlib import Path

from edgecoach.cli import main


def test_say_writes_a_wav_and_hits_the_cache_the_second_time(tmp_path: Path,
                                                             capsys) -> None:
    out = tmp_path / "line.wav"
    args = ["say", "--persona", "aiden", "--text", "Rest now.", "--out", str(out)]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["cacheHit"] is False and first["ttsLatency"] > 0
    with wave.open(str(out)) as file:
        assert (file.getnchannels(), file.getsampwidth(), file.getframerate()) == (1, 2, 22050)
        assert abs(file.getnframes() / 22050 - first["audioLength"]) < 0.01
    assert main(args) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["cacheHit"] is True and second["audioLength"] == first["audioLength"]
    assert second["ttsLatency"] < first["ttsLatency"]


def test_say_refuses_an_empty_line(capsys) -> None:
    assert main(["say", "--text", "  "]) == 2
    assert "--text" in capsys.readouterr().err
