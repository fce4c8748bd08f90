"""`make pi-check` (scripts/pi_check.py): its steps, where this machine can run them.

The emulated run itself (debootstrap, qemu) takes tens of minutes and root: it is not
part of the suite. What is tested: a step the machine cannot run is skipped with its
reason and never reads as a pass, a failing command fails its step with its exit status,
the README's Pi commands are what gets run, the WAV check, and the project's steps run
here natively (`--here`).
"""

import importlib.util
import platform
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO_ROOT

SCRIPT = REPO_ROOT / "scripts" / "pi_check.py"
spec = importlib.util.spec_from_file_location("pi_check", SCRIPT)
assert spec is not None and spec.loader is not None
pi_check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pi_check)


def write_wav(path: Path, seconds: float, channels: int = 1) -> Path:
    frames = (np.sin(np.arange(int(22050 * seconds) * channels) / 9) * 9000).astype(np.int16)
    with wave.open(str(path), "wb") as clip:
        clip.setnchannels(channels)
        clip.setsampwidth(2)
        clip.setframerate(22050)
        clip.writeframes(frames.tobytes())
    return path


@pytest.mark.skipif(platform.machine() == "aarch64", reason="arm64 runs natively, no binfmt")
def test_no_binfmt_skips_with_the_reason_and_every_later_step_and_is_not_a_pass(
        tmp_path: Path) -> None:
    lines: list[str] = []
    check = pi_check.Check(tmp_path / "root", binfmt_dir=tmp_path / "no-binfmt",
                           out=lines.append)
    check.step("binfmt", lambda: pi_check.binfmt(check.binfmt_dir))
    ran: list[str] = []
    check.step("root file system", lambda: ran.append("built") or "built")
    assert ran == []  # never attempted after a skip
    assert [r.status for r in check.results] == ["skipped", "skipped"]
    assert "no-binfmt does not exist" in check.results[0].detail
    assert check.results[1].detail == "after binfmt skipped"
    assert check.summary() == 3
    assert any("NOT PROVEN" in line for line in lines)
    assert any(line.startswith("pi-check: binfmt: SKIPPED in ") for line in lines)


def test_a_failing_command_fails_its_step_with_its_exit_status(tmp_path: Path) -> None:
    lines: list[str] = []
    check = pi_check.Check(tmp_path, here=True, out=lines.append)
    result = check.step("broken", lambda: check.run("echo oops >&2; exit 7"))
    assert result.status == "failed" and result.detail == "exit 7: oops"
    assert check.summary() == 1
    assert "pi-check: broken: FAILED in " in "\n".join(lines)


def test_a_command_past_its_time_fails(tmp_path: Path) -> None:
    check = pi_check.Check(tmp_path, here=True, out=lambda line: None)
    result = check.step("slow", lambda: check.run("sleep 5", timeout=0.5))
    assert result.status == "failed" and result.detail.startswith("no end after 0 s")


def test_the_readme_pi_commands_are_run_and_install_libatomic1() -> None:
    apt, setup = pi_check.readme_install_commands()
    assert apt.startswith("apt-get install -y ")
    assert {"libatomic1", "libportaudio2", "python3-venv"} <= set(apt.split())
    assert setup.startswith("scripts/setup.sh")


def test_a_readme_without_the_pi_commands_fails(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# X\n\n## Raspberry Pi\n\nNo commands here.\n")
    with pytest.raises(pi_check.Failed, match="no sh block"):
        pi_check.readme_install_commands(readme)


def test_the_wav_check_takes_speech_and_refuses_the_rest(tmp_path: Path) -> None:
    assert "1.20 s" in pi_check.valid_wav(write_wav(tmp_path / "ok.wav", 1.2))
    with pytest.raises(pi_check.Failed, match="2 channels"):
        pi_check.valid_wav(write_wav(tmp_path / "stereo.wav", 1.0, channels=2))
    with pytest.raises(pi_check.Failed, match="0.05 s"):
        pi_check.valid_wav(write_wav(tmp_path / "short.wav", 0.05))
    (tmp_path / "text.wav").write_text("not audio")
    with pytest.raises(pi_check.Failed, match="not a WAV"):
        pi_check.valid_wav(tmp_path / "text.wav")
    with pytest.raises(pi_check.Failed, match="not a WAV"):
        pi_check.valid_wav(tmp_path / "missing.wav")


def test_the_project_steps_run_here(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--here", "--root", str(tmp_path),
         "--only", "import every module,line set-end"],
        capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    out = done.stdout
    assert "pi-check: import every module: PASSED in " in out
    assert "pi-check: line set-end: PASSED in " in out
    assert "pi-check: 2 passed, 0 failed, 0 skipped" in out


def test_only_naming_no_step_is_refused() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), "--here", "--only", "nonsense"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2 and "names no step" in done.stderr
