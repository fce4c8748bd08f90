"""How the CLI reaches the running daemon: over its private Unix socket only, and only
after the kernel confirms that the process at the other end runs as this user.

The CLI never sends the token over TCP: any local user may bind 127.0.0.1:8765 while the
daemon is down and would receive it. A Unix socket in the user's runtime dir (0700, the
socket 0600) cannot be reached by others, and SO_PEERCRED makes sure of it before the
token leaves.
"""

import http.client
import json
import os
import socket
import struct
from pathlib import Path
from typing import Any

from edgecoach.errors import NotTheDaemon

MAX_REPLY_BYTES = 1 << 20
UCRED = struct.Struct("3i")  # pid, uid, gid


class DaemonNotRunning(Exception):
    """Nothing listens at the socket (no daemon, or one that stopped)."""


def peer_uid(sock: socket.socket) -> int:
    _pid, uid, _gid = UCRED.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                   UCRED.size))
    return uid


class _PeerCheckedConnection(http.client.HTTPConnection):
    """HTTP over a Unix socket whose listener must belong to this user."""

    def __init__(self, path: Path, timeout: float) -> None:
        super().__init__("edgecoach", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(str(self.socket_path))
            uid = peer_uid(sock)
        except OSError as error:
            sock.close()
            raise DaemonNotRunning(str(error)) from None
        if uid != os.getuid():
            sock.close()
            raise NotTheDaemon(f"{self.socket_path} is served by user {uid}, not by you: "
                               "the token was not sent")
        self.sock = sock


def daemon_status(path: Path, token: str, timeout: float = 2.0) -> dict[str, Any]:
    """The running daemon's own status; DaemonNotRunning, or NotTheDaemon for an answer
    that is not the daemon's (another server, HTML, a list)."""
    connection = _PeerCheckedConnection(path, timeout)
    try:
        connection.request("GET", "/v1/status", headers={"Authorization": f"Bearer {token}"})
        reply = connection.getresponse()
        body = reply.read(MAX_REPLY_BYTES)
    except (OSError, http.client.HTTPException) as error:
        raise DaemonNotRunning(str(error)) from None
    finally:
        connection.close()
    kind = reply.getheader("content-type", "no content type")
    if reply.status != 200:
        raise NotTheDaemon(f"{path} answered HTTP {reply.status} ({kind}), not the daemon's "
                           "status")
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    if not isinstance(document, dict) or not isinstance(document.get("daemon"), dict):
        raise NotTheDaemon(f"{path} answered something other than the daemon's status "
                           f"({kind})")
    return document["daemon"]
