"""Bounds on the API's connections, so no local user can exhaust the daemon's descriptors.

Without them about 1,100 half-open requests (a connection that never finishes its headers)
used every descriptor of a systemd service (1,024), kept the API unreachable for as long
as they stayed open, and filled the journal with one traceback per failed accept().

- A connection must deliver a request's headers within HEADER_TIMEOUT_SECONDS of
  connecting, or it is closed (uvicorn's own keep-alive timeout covers the idle time
  between requests; the body has its own limit in body_limit.py).
- At most MAX_CONNECTIONS are open per kind of listener (TCP, Unix socket): a new one
  beyond it closes the oldest connection still waiting for its request (a request in
  progress is never cut), or is closed itself when every open one is busy. The CLI's
  Unix socket, which only its owner may open, has its own count: a flood over TCP
  cannot lock it out.
- What was closed is logged at most once a LOG_EVERY_SECONDS, as one line with counts.
"""

import asyncio
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)

HEADER_TIMEOUT_SECONDS = 10.0
MAX_CONNECTIONS = 64
LOG_EVERY_SECONDS = 60.0
# asyncio's report when accept() fails with EMFILE, ENFILE, ENOBUFS or ENOMEM.
ACCEPT_FAILED = "socket.accept() out of system resource"


@dataclass(frozen=True)
class ConnectionLimits:
    max_connections: int = MAX_CONNECTIONS
    header_timeout: float = HEADER_TIMEOUT_SECONDS


@dataclass
class ConnectionGuard:
    """One server's limits, and what it closed since its last log line."""

    limits: ConnectionLimits = field(default_factory=ConnectionLimits)
    closed: dict[str, int] = field(default_factory=dict)
    last_logged: float = float("-inf")
    _report: asyncio.TimerHandle | None = None

    def protocol(self) -> type["GuardedH11Protocol"]:
        """The protocol class uvicorn makes each connection with, bound to this guard."""
        return type("GuardedH11Protocol", (GuardedH11Protocol,), {"guard": self})

    def note(self, reason: str) -> None:
        """Count a closure; log the counts now, or once the quiet interval is over."""
        self.closed[reason] = self.closed.get(reason, 0) + 1
        loop = asyncio.get_running_loop()
        wait = self.last_logged + LOG_EVERY_SECONDS - loop.time()
        if wait <= 0:
            self.report()
        elif self._report is None:
            self._report = loop.call_later(wait, self.report)

    def report(self) -> None:
        self._report = None
        self.last_logged = asyncio.get_running_loop().time()
        if self.closed:
            counts = ", ".join(f"{count} {reason}" for reason, count in self.closed.items())
            log.warning("API connections closed (at most one report a %.0f s): %s",
                        LOG_EVERY_SECONDS, counts)
            self.closed.clear()


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a header deadline and a cap on open connections."""

    guard: ConnectionGuard

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.connected_at = self.loop.time()
        sock = transport.get_extra_info("socket")
        self.listener_family = sock.family if sock is not None else socket.AF_INET
        self.header_deadline: asyncio.TimerHandle | None = self.loop.call_later(
            self.guard.limits.header_timeout, self._no_request_in_time)
        self._keep_within_cap()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        if self.cycle is not None:  # a request's headers arrived
            self._disarm()

    def _disarm(self) -> None:
        if self.header_deadline is not None:
            self.header_deadline.cancel()
            self.header_deadline = None

    def _no_request_in_time(self) -> None:
        self.header_deadline = None
        if self.cycle is None and not self.transport.is_closing():
            self.guard.note("sent no request in time")
            self.transport.abort()

    def _keep_within_cap(self) -> None:
        peers = [connection for connection in self.connections
                 if isinstance(connection, GuardedH11Protocol)
                 and connection.listener_family == self.listener_family
                 and not connection.transport.is_closing()]
        if len(peers) <= self.guard.limits.max_connections:
            return
        idle = [peer for peer in peers if peer is not self and peer.cycle is None]
        if idle:
            self.guard.note("oldest waiting one closed over the cap")
            min(idle, key=lambda peer: peer.connected_at).transport.abort()
        else:
            self.guard.note("refused, every connection busy")
            self.transport.abort()


def quiet_accept_failures(loop: asyncio.AbstractEventLoop,
                          guard: ConnectionGuard) -> Callable[[], None]:
    """Count asyncio's "accept() out of system resource" reports into the rate-limited
    line instead of a traceback each (asyncio retries the accept a second later by
    itself). Returns what restores the previous handler."""
    previous = loop.get_exception_handler()

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("message") == ACCEPT_FAILED:
            guard.note("accept() failed, descriptors exhausted")
        elif previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)
    return lambda: loop.set_exception_handler(previous)
