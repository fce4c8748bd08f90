"""The systemd unit: it verifies, and its sandbox exposure stays at 3.0 or lower."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

UNIT = REPO_ROOT / "systemd" / "edgecoach.service"
MAX_EXPOSURE = 3.0

pytestmark = pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                                reason="systemd-analyze is not installed")


def test_unit_declares_notify_watchdog_and_restart() -> None:
    text = UNIT.read_text()
    for setting in ("Type=notify", "WatchdogSec=", "Restart=on-failure",
                    "ExecStart=%h/edgecoach/.venv/bin/edgecoach run"):
        assert setting in text


def test_unit_verifies(tmp_path: Path) -> None:
    # %h is the installing user's home; lay out the install the README describes there.
    (tmp_path / "edgecoach").mkdir()
    (tmp_path / "edgecoach" / ".venv").symlink_to(REPO_ROOT / ".venv")
    done = subprocess.run(["systemd-analyze", "verify", str(UNIT)], capture_output=True,
                          text=True, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr


def test_security_exposure_is_3_or_lower() -> None:
    done = subprocess.run(["systemd-analyze", "security", "--offline=true", str(UNIT)],
                          capture_output=True, text=True)
    match = re.search(r"Overall exposure level for edgecoach.service: ([\d.]+)", done.stdout)
    assert match, done.stdout + done.stderr
    exposure = float(match.group(1))
    print(f"systemd-analyze security --offline=true: exposure {exposure}")
    assert exposure <= MAX_EXPOSURE
