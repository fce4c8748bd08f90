"""Raspberry Pi readiness: every runtime dependency resolves as an aarch64 (or pure) wheel."""

import subprocess

from tests.conftest import REPO_ROOT


def test_every_runtime_dependency_has_an_aarch64_wheel() -> None:
    done = subprocess.run([str(REPO_ROOT / "scripts" / "check_pi_wheels.sh")],
                          capture_output=True, text=True, timeout=600)
    print(done.stdout.splitlines()[-1] if done.stdout else done.stderr[-2000:])
    assert done.returncode == 0, done.stderr[-3000:]
    assert "pi-wheels:" in done.stdout
    assert "onnxruntime" in done.stdout and "piper_tts" in done.stdout
