"""Every hostile CLI case of issue 18 through the real CLI: exit 2, one line on stderr
naming the problem, no traceback, and nothing written or lost."""

import json
import os
import sqlite3
import subprocess
import sys
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest

from edgecoach.cli import main
from edgecoach.contract import VoiceResponse
from edgecoach.settings import load_settings
from edgecoach.store import Store
from tests.conftest import REPO_ROOT, SHARED_FIT_DIR

SCRIPT = REPO_ROOT / "data" / "recordings" / "strength-session.jsonl"
FIT = SHARED_FIT_DIR / "2013-02-06-12-11-14.fit"
IS_ROOT = os.geteuid() == 0


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line(code: int, err: str, *words: str) -> None:
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("edgecoach: error: "), err
    assert "Traceback" not in err
    for word in words:
        assert word in err, err


def files_under(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*") if path.is_file()}


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    """A folder nobody may write in: a read-only tmpfs as root (root ignores modes)."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    if IS_ROOT:
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs",
                                  str(folder)], capture_output=True)
        if mounted.returncode != 0:
            pytest.skip(f"cannot mount a read-only tmpfs: {mounted.stderr!r}")
        yield folder
        subprocess.run(["umount", str(folder)], check=True)
    else:
        folder.chmod(0o500)
        yield folder
        folder.chmod(0o700)


# --- paths a command writes to -----------------------------------------------------------

def test_say_out_to_a_folder_a_device_or_nowhere(capsys, tmp_path: Path,
                                                 read_only_dir: Path) -> None:
    a_file = tmp_path / "plain"
    a_file.write_text("keep me")
    cases = [
        (tmp_path, "is a folder"),
        (Path("/dev/full"), "not a regular file"),
        (read_only_dir / "line.wav", str(read_only_dir)),
        (a_file / "line.wav", "cannot create"),
    ]
    before = files_under(tmp_path)
    for out, words in cases:
        code, out_text, err = run(capsys, "say", "--text", "Good set.", "--out", str(out))
        assert_one_line(code, err, "--out", words)
        assert out_text == ""
    written = {path for path in files_under(tmp_path) - before
               if tmp_path / "data" not in path.parents}
    assert written == set() and a_file.read_text() == "keep me"


def test_demo_out_to_a_file_a_device_or_an_impossible_path(capsys, tmp_path: Path) -> None:
    a_file = tmp_path / "plain"
    a_file.write_text("keep me")
    for out, words in [(a_file, "not a folder"), (Path("/dev/full"), "not a folder"),
                       (Path("/proc/no-such/place"), "cannot create")]:
        code, _, err = run(capsys, "demo", "--out", str(out))
        assert_one_line(code, err, "--out", words)
    assert a_file.read_text() == "keep me"
    assert not (tmp_path / "data" / "demo.db").exists()  # refused before any work


def test_replay_transcript_to_a_folder(capsys, tmp_path: Path) -> None:
    code, out, err = run(capsys, "replay", "--speed", "0", "--transcript", str(tmp_path),
                         str(SCRIPT))
    assert_one_line(code, err, "--transcript", "is a folder")
    assert out == ""


@pytest.mark.skipif(not IS_ROOT, reason="a small tmpfs needs root")
def test_a_full_disk_under_demo_out_exits_non_zero_leaving_only_whole_wavs(
        tmp_path: Path) -> None:
    disk = tmp_path / "small-disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=80k", "tmpfs", str(disk)], check=True)
    try:
        script = tmp_path / "one-set.jsonl"
        script.write_text(SCRIPT.read_text().splitlines()[0] + "\n")
        done = subprocess.run(
            [sys.executable, "-m", "edgecoach", "demo", "--out", str(disk), "--speed", "0",
             "--recording", str(script)],
            capture_output=True, text=True, timeout=300, env=os.environ)
        assert done.returncode == 2, done.stderr
        assert "No space left on device" in done.stderr.splitlines()[-1]
        assert "Traceback" not in done.stderr
        wavs = sorted(disk.glob("*.wav"))
        for path in wavs:  # what is there is whole: its header matches its size
            with wave.open(str(path)) as file:
                assert file.getnframes() * 2 + 44 == path.stat().st_size
        assert not list(disk.glob(".*.partial"))
    finally:
        subprocess.run(["umount", str(disk)], check=True)


# --- the voice ---------------------------------------------------------------------------

def test_say_refuses_a_text_longer_than_the_coach_ever_says(capsys) -> None:
    code, _, err = run(capsys, "say", "--text", "a" * 100_000)
    assert_one_line(code, err, "--text", "100000 characters")


def test_piper_producing_no_audio_is_said_once(capsys, tmp_path: Path) -> None:
    out = tmp_path / "nothing.wav"
    code, _, err = run(capsys, "say", "--text", "...", "--out", str(out))
    assert_one_line(code, err, "no audio")
    assert not out.exists()


# --- settings and the data dir -----------------------------------------------------------

@pytest.mark.parametrize(("variables", "words"), [
    ({"EDGECOACH_LOG_LEVEL": "LOUD"}, ["EDGECOACH_LOG_LEVEL", "log_level"]),
    ({"EDGECOACH_CACHE__BUDGET_MB": "inf"}, ["EDGECOACH_CACHE__BUDGET_MB", "finite"]),
    ({"EDGECOACH_CACHE__TTL_DAYS": "nan"}, ["EDGECOACH_CACHE__TTL_DAYS", "finite"]),
    ({"EDGECOACH_API__PORT": "abc"}, ["EDGECOACH_API__PORT", "integer"]),
], ids=["log-level-loud", "budget-inf", "ttl-nan", "port-abc"])
def test_a_bad_setting_names_its_variable(capsys, monkeypatch, variables: dict,
                                          words: list[str]) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    code, _, err = run(capsys, "status")
    assert_one_line(code, err, *words)
    assert "edgecoach.toml" not in err


@pytest.mark.parametrize(("toml", "words"), [
    ('log_level = "LOUD"\n', ["log_level"]),
    ("[cache]\nbudget_mb = inf\n", ["cache.budget_mb", "finite"]),
    ("[cache]\nttl_days = nan\n", ["cache.ttl_days", "finite"]),
], ids=["log-level-loud", "budget-inf", "ttl-nan"])
def test_a_bad_setting_in_the_file_names_the_file(capsys, monkeypatch, tmp_path: Path,
                                                   toml: str, words: list[str]) -> None:
    config = tmp_path / "edgecoach.toml"
    config.write_text(toml)
    monkeypatch.setenv("EDGECOACH_CONFIG", str(config))
    code, _, err = run(capsys, "status")
    assert_one_line(code, err, str(config), *words)


def test_a_data_dir_that_is_a_file_or_cannot_be_made(capsys, monkeypatch,
                                                     tmp_path: Path) -> None:
    a_file = tmp_path / "plain"
    a_file.write_text("keep me")
    monkeypatch.setenv("EDGECOACH_DATA_DIR", str(a_file))
    code, _, err = run(capsys, "status")
    assert_one_line(code, err, "EDGECOACH_DATA_DIR", "is a file")
    monkeypatch.setenv("EDGECOACH_DATA_DIR", str(a_file / "below"))
    code, _, err = run(capsys, "user", "export", "athlete")
    assert_one_line(code, err, "EDGECOACH_DATA_DIR", "cannot create")
    assert a_file.read_text() == "keep me"


# --- user data ---------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["export", "delete"])
def test_an_unknown_user_is_said_so(capsys, command: str) -> None:
    code, out, err = run(capsys, "user", command, "nobody")
    assert_one_line(code, err, "no user 'nobody'")
    assert out == ""
    store = Store.open(load_settings().database_path)
    try:
        assert not store.subscriptions.exists("nobody")  # no made-up subscription
    finally:
        store.close()


def test_user_export_prints_valid_json_even_over_a_stored_infinity(capsys) -> None:
    store = Store.open(load_settings().database_path)
    store.responses.add(VoiceResponse(user_id="athlete", trigger_id="set-end",
                                      persona_id="alice", text_content="Lovely set."))
    store.close()
    # A value written before NaN and Infinity were refused at the door.
    with sqlite3.connect(load_settings().database_path) as db:
        db.execute("update voice_responses set metadata = ? where userId = 'athlete'",
                   ['{"generationLatency": Infinity}'])
    code, out, _ = run(capsys, "user", "export", "athlete")
    assert code == 0

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} in the export")

    document = json.loads(out, parse_constant=refuse)
    assert document["voice_responses"][0]["metadata"]["generationLatency"] is None


# --- recordings and what is printed ------------------------------------------------------

def test_an_empty_fit_file_and_one_cut_to_no_records_fail_alike(capsys,
                                                                tmp_path: Path) -> None:
    empty = tmp_path / "empty.fit"
    empty.write_bytes(b"")
    cut = tmp_path / "cut.fit"
    cut.write_bytes(FIT.read_bytes()[:200])  # header and definitions, no record whole
    messages = []
    for path in (empty, cut):
        code, _, err = run(capsys, "replay", "--events-only", "--speed", "0", str(path))
        assert_one_line(code, err, "no laps or heart-rate records to replay")
        messages.append(err.split(str(path))[1].split(" (")[0])
    assert messages[0] == messages[1]


def test_control_characters_never_reach_the_terminal(capsys, tmp_path: Path) -> None:
    script = tmp_path / "hostile.jsonl"
    script.write_text(json.dumps({"exercise": "squat\x1b]0;owned\x07\x1b[2J", "reps": 5,
                                  "weight": 60, "rest": 60}) + "\n")
    code, out, _ = run(capsys, "replay", "--events-only", "--speed", "0", str(script))
    assert code == 0 and "squat" in out
    assert not any(ord(char) < 32 and char not in "\n" for char in out), repr(out)
    hostile_name = tmp_path / "evil\x1b[31m.jsonl"
    code, _, err = run(capsys, "replay", str(hostile_name))
    assert_one_line(code, err, "is not a file")
    assert "\x1b" not in err
