"""The demo and the transcript never delete or replace a file the project did not write."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from edgecoach.demo import OUT_DIR_MARKER, prepare_out_dir
from edgecoach.errors import ValidationFailed
from edgecoach.transcript import Transcript


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, EDGECOACH_DATA_DIR=str(tmp_path / "data"))
    return subprocess.run([sys.executable, "-m", "edgecoach", *args], env=env,
                          capture_output=True, text=True, timeout=60)


def test_demo_out_refuses_a_folder_of_someone_elses_files(tmp_path: Path) -> None:
    music = tmp_path / "Music"
    music.mkdir()
    (music / "song.wav").write_bytes(b"RIFF mine")
    (music / "0001-set-end.wav").write_bytes(b"RIFF also mine")
    done = cli(tmp_path, "demo", "--out", str(music))
    assert done.returncode == 2
    assert done.stderr.strip() == (f"edgecoach: error: --out: {music} is not empty and was "
                                   "not made by edgecoach demo; give a new or empty folder")
    assert sorted(p.name for p in music.iterdir()) == ["0001-set-end.wav", "song.wav"]
    assert not (tmp_path / "data" / "demo.db").exists()  # refused before anything changed


def test_a_folder_the_demo_made_loses_only_the_demos_files(tmp_path: Path) -> None:
    out = tmp_path / "demo-out"
    prepare_out_dir(out)
    assert (out / OUT_DIR_MARKER).is_file()
    for name in ("0001-set-end.wav", "0002-hr-zone.wav", "transcript.jsonl", "notes.txt",
                 "song.wav"):
        (out / name).write_text("x")
    prepare_out_dir(out)  # the next run
    assert sorted(p.name for p in out.iterdir()) == [OUT_DIR_MARKER, "notes.txt", "song.wav"]


def test_demo_out_refuses_a_file(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("keep")
    with pytest.raises(ValidationFailed, match="not a directory"):
        prepare_out_dir(target)
    assert target.read_text() == "keep"


def test_a_transcript_path_that_is_no_regular_file_is_refused_and_left(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ValidationFailed, match="not a regular file"):
        Transcript(fifo, fresh=True)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    target = tmp_path / "precious"
    target.write_text("keep")
    link = tmp_path / "link"
    link.symlink_to(target)
    with pytest.raises(ValidationFailed, match="transcript"):
        Transcript(link, fresh=True)
    assert link.is_symlink() and target.read_text() == "keep"


def test_a_regular_transcript_is_started_afresh_in_place(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text('{"old": 1}\n')
    inode = path.stat().st_ino
    transcript = Transcript(path, fresh=True)
    transcript.write({"new": 2})
    transcript.close()
    assert path.read_text() == '{"new": 2}\n' and path.stat().st_ino == inode


def test_replay_transcript_to_a_device_exits_2_and_leaves_it(tmp_path: Path) -> None:
    fifo = tmp_path / "device-like"
    os.mkfifo(fifo)
    script = Path(__file__).resolve().parents[1] / "data" / "recordings" / \
        "strength-session.jsonl"
    done = cli(tmp_path, "replay", str(script), "--speed", "0", "--transcript", str(fifo))
    assert done.returncode == 2
    assert done.stderr.strip() == f"edgecoach: error: --transcript: {fifo} is not a " \
                                  "regular file"
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
