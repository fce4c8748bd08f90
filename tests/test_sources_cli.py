"""`edgecoach replay` as a user runs it, and the sources documentation."""

import json
import re
from pathlib import Path

import pytest

from edgecoach.cli import main

REPO = Path(__file__).resolve().parents[1]
RECORDINGS = REPO / "data" / "recordings"
SHARED_FIT = Path(__file__).resolve().parents[2] / "shared" / "data" / "fit"
LINE = re.compile(r"^\d\d:\d\d:\d\d  (\S+)\s+(.*)$")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_replay_prints_one_line_per_event(capsys) -> None:
    code, out, _ = run(capsys, "replay", str(RECORDINGS / "2013-02-06-12-11-14.fit"),
                       "--speed", "0", "--persona", "aiden", "--events-only")
    assert code == 0
    header, *lines = out.splitlines()
    assert "persona aiden" in header
    triggers = [LINE.match(line).group(1) for line in lines]
    assert triggers[0] == "pre-start" and triggers[-1] == "workout-end"
    assert triggers.count("set-start") == triggers.count("set-end") == 5
    assert triggers.count("strainsync") == 2
    assert "00:09:39  set-end      exercise=run heartRate=146" in out
    assert re.search(r"workout-end +exercise=run strain=62\.\d heartRate=147 totalSets=5", out)


def test_replay_samples_and_scripts(capsys) -> None:
    code, out, _ = run(capsys, "replay", str(RECORDINGS / "strength-session.jsonl"),
                       "--speed", "inf", "--samples", "--events-only")
    assert code == 0
    assert "set-end      exercise=back squat reps=8 weight=60 setNumber=1" in out
    assert "volume=4265" in out
    code, out, _ = run(capsys, "replay", str(RECORDINGS / "2013-02-06-12-11-14.fit"),
                       "--speed", "0", "--samples", "--events-only")
    assert sum(" bpm" in line for line in out.splitlines()) == 590


@pytest.mark.parametrize(("argv", "message"), [
    (["--persona", "bob"], "persona: must be one of alice, aiden"),
    (["--speed", "-2"], "speed: must be 0"),
])
def test_bad_options_exit_2_with_one_line(capsys, argv, message) -> None:
    code, _, err = run(capsys, "replay", str(RECORDINGS / "strength-session.jsonl"), *argv)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


@pytest.mark.skipif(not SHARED_FIT.is_dir(), reason=f"no shared recordings at {SHARED_FIT}")
def test_corrupt_recording_is_one_line_exit_2(capsys) -> None:
    code, _, err = run(capsys, "replay", str(SHARED_FIT / "activity-settings-corruptheader.fit"),
                       "--speed", "0")
    assert code == 2
    assert err.strip().splitlines() == [
        f"edgecoach: error: {SHARED_FIT}/activity-settings-corruptheader.fit: "
        "corrupt FIT header (not a FIT file @ 771)"]


def test_replay_has_help_and_docs(capsys) -> None:
    code, out, _ = run(capsys, "replay", "--help")
    assert code == 0 and "--speed" in out and "--persona" in out
    docs = (REPO / "docs" / "sources.md").read_text()
    for name in ("edgecoach replay", "HeartRateMonitor", "EarbudsWatcher", "StrainMeter",
                 "parse_heart_rate_measurement", "replay_script", "TRIMP"):
        assert name in docs, name


def test_replay_coaches_and_writes_the_transcript(capsys, tmp_path: Path) -> None:
    transcript = tmp_path / "t.jsonl"
    code, out, _ = run(capsys, "replay", str(RECORDINGS / "strength-session.jsonl"),
                       "--speed", "0", "--persona", "aiden", "--transcript", str(transcript))
    assert code == 0 and "workout-end" in out
    entries = [json.loads(line) for line in transcript.read_text().splitlines()]
    assert entries[0]["trigger"] == "pre-start" and entries[-1]["trigger"] == "workout-end"
    for entry in entries:
        assert entry["status"] in ("spoken", "suppressed")
        assert entry["text"] if entry["status"] == "spoken" else entry["reason"]
