"""Security: the local API's token, where the daemon listens, secrets in logs, the unit's
sandbox, and a user's export and deletion.

One daemon (TCP, upstream on LocalConvex, DEBUG logs) and one on a Unix socket:

- no token and a wrong token get 401 (the unit tests of tests/test_api*.py check the same
  for every path; this checks the running daemon);
- the token file is 0600 in a 0700 directory; the Unix socket is 0600;
- the daemon's listening sockets (from /proc/<pid>/fd and /proc/net/tcp*) are loopback only;
- the upstream token never appears in the daemon's log (DEBUG level, after a sync);
- `systemd-analyze security --offline=true systemd/edgecoach.service` exposure;
- an export of user A holds no trace of user B; after DELETE of user B, no byte of B's
  user id, response ids or event ids is left in the SQLite file or its -wal.

    python -m campaigns.security
"""

import argparse
import ipaddress
import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from campaigns.harness import (
    REPO,
    UPSTREAM_TOKEN,
    DaemonProcess,
    print_figures,
    wait_until,
)
from edgecoach.sync.local_convex import LocalConvex

KEPT, GONE = "sec-kept-athlete", "sec-gone-athlete"


@dataclass
class Figures:
    no_token_status: int = 0
    wrong_token_status: int = 0
    token_file_mode: str = ""
    data_dir_mode: str = ""
    database_file_mode: str = ""
    unix_socket_mode: str = ""
    listening: list[str] = field(default_factory=list)
    non_loopback_listeners: int = 0
    upstream_items_synced: int = 0
    upstream_token_in_log: int = 0
    systemd_exposure: str = ""
    export_foreign_traces: int = 0
    export_own_responses: int = 0
    deleted_rows: dict[str, int] = field(default_factory=dict)
    traces_after_delete_running: int = 0
    traces_after_delete_stopped: int = 0
    notes: list[str] = field(default_factory=list)


def listening_sockets(pid: int) -> list[str]:
    """host:port of every TCP socket in LISTEN state that process `pid` holds."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except FileNotFoundError:  # closed while we looked
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table, width in (("tcp", 4), ("tcp6", 16)):
        lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        for line in lines:
            fields = line.split()
            if fields[3] != "0A" or fields[9] not in inodes:  # 0A: LISTEN
                continue
            address, port = fields[1].split(":")
            raw = bytes.fromhex(address)
            # /proc prints each 32-bit word in host (little-endian) order.
            raw = b"".join(raw[i:i + 4][::-1] for i in range(0, width, 4))
            found.append(f"{ipaddress.ip_address(raw)}:{int(port, 16)}")
    return found


def _mode(path: Path) -> str:
    return oct(stat.S_IMODE(path.stat().st_mode))


def _traces(paths: list[Path], markers: list[str]) -> int:
    count = 0
    for path in paths:
        if path.exists():
            data = path.read_bytes()
            count += sum(data.count(marker.encode()) for marker in markers)
    return count


def _coach(daemon: DaemonProcess, user: str, count: int) -> list[str]:
    """Post events that speak; returns their event ids once all are final."""
    ids = []
    for number in range(count):
        reply = daemon.post_event({"triggerId": "workout-end", "userId": user,
                                   "timestamp": time.time() - 600 * (count - number),
                                   "context": {"totalSets": number + 3, "heartRate": 150}})
        reply.raise_for_status()
        ids.append(reply.json()["eventId"])
    if not wait_until(lambda: len(daemon.responses(user)) >= count, timeout=120):
        raise RuntimeError(f"{user}: lines not spoken:\n" + daemon.log.read_text())
    return ids


def _systemd_exposure() -> str:
    if shutil.which("systemd-analyze") is None:
        return "skipped: systemd-analyze not installed"
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "systemd/edgecoach.service"],
        cwd=REPO, capture_output=True, text=True, timeout=120)
    match = re.search(r"Overall exposure level for \S+: (.+)", result.stdout)
    return match.group(1).strip() if match else f"no figure (exit {result.returncode})"


def _unix_socket(root: Path, figures: Figures) -> None:
    socket_path = root / "run" / "edgecoach.sock"
    socket_path.parent.mkdir()
    with DaemonProcess(root / "data-unix", EDGECOACH_API__UNIX_SOCKET=str(socket_path)) as daemon:
        if not wait_until(lambda: socket_path.exists()
                          or daemon.process.poll() is not None, timeout=120):
            raise RuntimeError("no socket:\n" + daemon.log.read_text())
        figures.unix_socket_mode = _mode(socket_path)
        token = (root / "data-unix" / "api-token").read_text().strip()
        with httpx.Client(transport=httpx.HTTPTransport(uds=str(socket_path)),
                          base_url="http://edgecoach") as client:
            wait_until(lambda: client.get("/v1/status", headers={
                "Authorization": f"Bearer {token}"}).status_code == 200, timeout=60)
            if client.get("/v1/status").status_code != 401:
                figures.notes.append("Unix socket answered without a token")
        tcp = listening_sockets(daemon.pid)
        if tcp:
            figures.notes.append(f"with a Unix socket the daemon still listens on {tcp}")
        daemon.terminate()


def run(workdir: Path | None = None) -> Figures:
    figures = Figures()
    root = Path(workdir or tempfile.mkdtemp(prefix="security-"))
    data = root / "data"
    with LocalConvex(token=UPSTREAM_TOKEN) as convex, DaemonProcess(
            data, upstream=convex.url, EDGECOACH_LOG_LEVEL="DEBUG") as daemon:
        daemon.wait_ready()
        base = f"http://127.0.0.1:{daemon.port}/"
        figures.no_token_status = httpx.get(f"{base}v1/status").status_code
        figures.wrong_token_status = httpx.get(
            f"{base}v1/status", headers={"Authorization": "Bearer " + "x" * 43}).status_code
        figures.token_file_mode = _mode(data / "api-token")
        figures.data_dir_mode = _mode(data)
        figures.database_file_mode = _mode(data / "edgecoach.db")
        figures.listening = listening_sockets(daemon.pid)
        figures.non_loopback_listeners = sum(
            1 for address in figures.listening
            if not ipaddress.ip_address(address.rsplit(":", 1)[0]).is_loopback)
        _coach(daemon, KEPT, 2)
        gone_events = _coach(daemon, GONE, 2)
        gone_responses = [response["id"] for response in daemon.responses(GONE)]
        daemon.client.post(f"/v1/responses/{gone_responses[0]}/feedback",
                           json={"rating": 4, "helpful": True}).raise_for_status()
        wait_until(lambda: len(convex.items) >= 6, timeout=30)
        figures.upstream_items_synced = len(convex.items)
        export = daemon.client.get(f"/v1/users/{KEPT}/export")
        export.raise_for_status()
        exported = json.dumps(export.json())
        figures.export_own_responses = len(export.json().get("voice_responses", []))
        markers = [GONE, *gone_events, *gone_responses]
        figures.export_foreign_traces = sum(exported.count(marker) for marker in markers)
        deleted = daemon.client.delete(f"/v1/users/{GONE}")
        deleted.raise_for_status()
        figures.deleted_rows = deleted.json().get("deleted", {})
        files = [data / "edgecoach.db", data / "edgecoach.db-wal"]
        figures.traces_after_delete_running = _traces(files, markers)
        daemon.terminate()
        figures.traces_after_delete_stopped = _traces(files, markers)
        figures.upstream_token_in_log = daemon.log.read_text().count(UPSTREAM_TOKEN)
    _unix_socket(root, figures)
    figures.systemd_exposure = _systemd_exposure()
    return figures


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the same (one size)")
    parser.parse_args(argv)
    figures = run().__dict__
    print_figures("security", figures)
    return figures


if __name__ == "__main__":
    main()
