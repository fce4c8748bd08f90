"""Connection exhaustion: a local user floods the API with half-open requests.

The daemon runs with systemd's default of 1,024 descriptors (RLIMIT_NOFILE, as the unit
would give it without LimitNOFILE). An attacker keeps N connections open that each start
a request and never finish its headers, opening a new one for each the daemon closes,
for the whole duration. Meanwhile a client with the token asks `GET /v1/status` over TCP
(a new connection each time) and the CLI asks over its private Unix socket, every 0.25 s.

Figures: how many of those requests succeeded and how long they took, how many attacker
connections the daemon closed, its open descriptors at most, the size of its log and the
tracebacks or "out of system resource" lines in it. Loopback only; stops by itself.

    python -m campaigns.connections [--full]
"""

import argparse
import asyncio
import os
import resource
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from campaigns.harness import DaemonProcess, print_figures
from edgecoach.api.local_client import DaemonNotRunning, daemon_status

SMALL = {"connections": 300, "seconds": 5.0}
FULL = {"connections": 1100, "seconds": 25.0}
SYSTEMD_DEFAULT_NOFILE = 1024
PROBE_EVERY_SECONDS = 0.25
PROBE_TIMEOUT_SECONDS = 2.0
HALF_OPEN = b"POST /v1/events HTTP/1.1\r\nHost: edgecoach\r\nContent-Type: application/json\r\n"


@dataclass
class Probes:
    ok: int = 0
    failed: int = 0
    latencies_ms: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        latencies = sorted(self.latencies_ms) or [0.0]
        return {"ok": self.ok, "failed": self.failed,
                "p50_ms": round(statistics.median(latencies), 1),
                "max_ms": round(latencies[-1], 1)}


@dataclass
class Figures:
    connections: int
    seconds: float
    daemon_nofile: int = SYSTEMD_DEFAULT_NOFILE
    attacker_connections_opened: int = 0
    attacker_connections_closed_by_daemon: int = 0
    daemon_fds_ready: int = 0
    daemon_fds_max: int = 0
    tcp_with_token: dict[str, Any] = field(default_factory=dict)
    cli_socket: dict[str, Any] = field(default_factory=dict)
    log_bytes: int = 0
    log_tracebacks: int = 0
    log_accept_failures: int = 0
    log_connection_reports: int = 0
    rss_kb_before: int = 0
    rss_kb_after: int = 0


def _fd_count(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


class Attacker:
    """Keeps `count` half-open requests open, reopening each one the daemon closes."""

    def __init__(self, port: int, count: int) -> None:
        self.port = port
        self.count = count
        self.opened = 0
        self.closed_by_daemon = 0
        self.live: set[asyncio.Task] = set()

    async def run(self, until: float) -> None:
        while time.monotonic() < until:
            while len(self.live) < self.count and time.monotonic() < until:
                task = asyncio.create_task(self._one(until))
                self.live.add(task)
                task.add_done_callback(self.live.discard)
                await asyncio.sleep(0)
            await asyncio.sleep(0.01)
        for task in list(self.live):
            task.cancel()
        await asyncio.gather(*self.live, return_exceptions=True)

    async def _one(self, until: float) -> None:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        except OSError:
            await asyncio.sleep(0.05)
            return
        self.opened += 1
        try:
            writer.write(HALF_OPEN)
            await writer.drain()
            await asyncio.wait_for(reader.read(), max(0.0, until - time.monotonic()))
            self.closed_by_daemon += 1
        except (TimeoutError, OSError):
            pass
        finally:
            writer.close()


async def _probe_tcp(port: int, token: str, until: float, probes: Probes) -> None:
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits,
                                 headers={"Authorization": f"Bearer {token}"},
                                 timeout=PROBE_TIMEOUT_SECONDS) as client:
        while time.monotonic() < until:
            started = time.monotonic()
            try:
                ok = (await client.get("/v1/status")).status_code == 200
            except httpx.HTTPError:
                ok = False
            _count(probes, ok, started)
            await asyncio.sleep(PROBE_EVERY_SECONDS)


async def _probe_cli(path: Path, token: str, until: float, probes: Probes) -> None:
    while time.monotonic() < until:
        started = time.monotonic()
        try:
            await asyncio.to_thread(daemon_status, path, token, PROBE_TIMEOUT_SECONDS)
            ok = True
        except DaemonNotRunning:
            ok = False
        _count(probes, ok, started)
        await asyncio.sleep(PROBE_EVERY_SECONDS)


def _count(probes: Probes, ok: bool, started: float) -> None:
    if ok:
        probes.ok += 1
        probes.latencies_ms.append((time.monotonic() - started) * 1000)
    else:
        probes.failed += 1


async def _watch_fds(pid: int, until: float, figures: Figures) -> None:
    while time.monotonic() < until:
        figures.daemon_fds_max = max(figures.daemon_fds_max, _fd_count(pid))
        await asyncio.sleep(0.2)


async def _flood(daemon: DaemonProcess, socket_path: Path, figures: Figures) -> None:
    token = (daemon.data_dir / "api-token").read_text().strip()
    until = time.monotonic() + figures.seconds
    attacker = Attacker(daemon.port, figures.connections)
    tcp, cli = Probes(), Probes()
    await asyncio.sleep(0)
    await asyncio.gather(attacker.run(until), _probe_tcp(daemon.port, token, until, tcp),
                         _probe_cli(socket_path, token, until, cli),
                         _watch_fds(daemon.pid, until, figures))
    figures.attacker_connections_opened = attacker.opened
    figures.attacker_connections_closed_by_daemon = attacker.closed_by_daemon
    figures.tcp_with_token, figures.cli_socket = tcp.summary(), cli.summary()


def run(connections: int = SMALL["connections"], seconds: float = SMALL["seconds"],
        workdir: Path | None = None) -> Figures:
    root = workdir or Path(tempfile.mkdtemp(prefix="edgecoach-connections-"))
    figures = Figures(connections=int(connections), seconds=seconds)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # The daemon inherits systemd's default; this process needs room for the flood.
    resource.setrlimit(resource.RLIMIT_NOFILE, (SYSTEMD_DEFAULT_NOFILE, hard))
    try:
        daemon = DaemonProcess(root / "data")
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4 * connections)),
                                                    hard))
    with daemon:
        daemon.wait_ready()
        figures.rss_kb_before = daemon.rss_kb()
        figures.daemon_fds_ready = _fd_count(daemon.pid)
        socket_path = _cli_socket(daemon)
        asyncio.run(_flood(daemon, socket_path, figures))
        figures.rss_kb_after = daemon.rss_kb()
        daemon.terminate()
    text = daemon.log.read_text(errors="replace")
    figures.log_bytes = len(text.encode())
    figures.log_tracebacks = text.count("Traceback")
    figures.log_accept_failures = text.count("out of system resource")
    figures.log_connection_reports = text.count("API connections closed")
    return figures


def _cli_socket(daemon: DaemonProcess) -> Path:
    """The daemon's CLI socket, from its settings as its own environment gives them."""
    from edgecoach.settings import Settings

    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(daemon.env)
    try:
        path = Settings().api.cli_socket
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert path is not None
    return path


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="1,100 connections for 25 s")
    args = parser.parse_args(argv)
    size = FULL if args.full else SMALL
    figures = asdict(run(int(size["connections"]), size["seconds"]))
    print_figures("connections", figures)
    return figures


if __name__ == "__main__":
    main()
