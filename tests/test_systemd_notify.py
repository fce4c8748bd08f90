"""sd_notify over a real datagram socket, as systemd listens for it."""

import socket
from pathlib import Path

from edgecoach.systemd_notify import ServiceNotifier


def test_ready_and_watchdog_reach_the_notify_socket(tmp_path: Path) -> None:
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as systemd:
        systemd.bind(str(path))
        notifier = ServiceNotifier({"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "30000000"})
        notifier.ready("coaching")
        notifier.notify("WATCHDOG=1")
        assert systemd.recv(1024) == b"READY=1\nSTATUS=coaching"
        assert systemd.recv(1024) == b"WATCHDOG=1"
    assert notifier.watchdog_interval == 15


def test_without_systemd_nothing_is_sent() -> None:
    notifier = ServiceNotifier({})
    notifier.ready("x")
    assert not notifier.enabled and notifier.watchdog_interval is None
