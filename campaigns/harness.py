"""Start the real daemon as a subprocess, talk to its API, kill it, read its files.

The campaigns share this; it mirrors how tests/test_daemon.py starts the daemon.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

UPSTREAM_TOKEN = "campaign-upstream-token-9d41e7b2"
REPO = Path(__file__).resolve().parent.parent


def unused_port() -> int:
    """A free local TCP port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def daemon_env(data_dir: Path, port: int, upstream: str | None = None,
               **extra: str) -> dict[str, str]:
    """The environment of a headless daemon (no BLE, BlueZ, buttons or speaker)."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("EDGECOACH_")}
    env.update(EDGECOACH_DATA_DIR=str(data_dir), EDGECOACH_API__PORT=str(port),
               EDGECOACH_SOURCES__BLE_ENABLED="false",
               EDGECOACH_SOURCES__BLUEZ_ENABLED="false",
               EDGECOACH_SOURCES__BUTTONS_ENABLED="false",
               EDGECOACH_AUDIO__OUTPUT="none")
    if upstream:
        env.update(EDGECOACH_UPSTREAM__URL=upstream, EDGECOACH_UPSTREAM__TOKEN=UPSTREAM_TOKEN,
                   EDGECOACH_UPSTREAM__SYNC_INTERVAL_SECONDS="1")
    env.update(extra)
    return env


def run_cli(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """`python -m edgecoach <args>` to completion (for start-up failures)."""
    return subprocess.run([sys.executable, "-m", "edgecoach", *args], env=env,
                          capture_output=True, text=True, timeout=timeout, cwd=REPO)


class DaemonProcess:
    """`python -m edgecoach run` in the background, its log in `<data_dir>/../daemon-N.log`."""

    starts = 0

    def __init__(self, data_dir: Path, port: int | None = None, upstream: str | None = None,
                 **extra_env: str) -> None:
        self.data_dir = data_dir
        self.port = port or unused_port()
        self.env = daemon_env(data_dir, self.port, upstream, **extra_env)
        data_dir.parent.mkdir(parents=True, exist_ok=True)  # the daemon makes data_dir
        DaemonProcess.starts += 1
        self.log = data_dir.parent / f"daemon-{DaemonProcess.starts}.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "edgecoach", "run"], env=self.env, cwd=REPO,
                stdout=log, stderr=subprocess.STDOUT)
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30)

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, timeout: float = 120) -> float:
        """Seconds until GET /v1/status answers 200."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError("daemon exited:\n" + self.log.read_text())
            token_file = self.data_dir / "api-token"
            if token_file.exists():
                token = token_file.read_text().strip()
                self.client.headers["Authorization"] = f"Bearer {token}"
                try:
                    if self.client.get("/v1/status").status_code == 200:
                        return time.monotonic() - started
                except httpx.TransportError:
                    pass
            time.sleep(0.1)
        raise RuntimeError("daemon did not start:\n" + self.log.read_text())

    def post_event(self, event: dict[str, Any]) -> httpx.Response:
        return self.client.post("/v1/events", json=event)

    def queue_size(self) -> int:
        reply = self.client.get("/v1/status")
        reply.raise_for_status()
        return int(reply.json()["daemon"]["queueSize"])

    def responses(self, user: str, limit: int = 200) -> list[dict]:
        reply = self.client.get("/v1/responses", params={"userId": user, "limit": limit})
        reply.raise_for_status()
        return reply.json()

    def rss_kb(self, field: str = "VmRSS") -> int:
        """VmRSS of the daemon process (or another field: VmHWM, its peak), from /proc."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
        raise RuntimeError(f"no {field}")

    def reset_peak(self) -> None:
        """Start VmHWM again from the current VmRSS (Linux's clear_refs, value 5)."""
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")

    def kill9(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.client.close()

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=60)
        self.client.close()
        return code

    def __enter__(self) -> "DaemonProcess":
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.client.close()


def wait_until(condition: Callable[[], bool], timeout: float = 60, every: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False


def print_figures(name: str, figures: dict[str, Any]) -> None:
    """One JSON object per campaign on stdout: the figures docs/reliability.md quotes."""
    print(json.dumps({"campaign": name, **figures}, indent=2, default=str))
