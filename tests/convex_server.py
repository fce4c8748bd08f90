"""The fake Convex deployment for tests: a real HTTP server on 127.0.0.1 with faults.

The server itself is `edgecoach.sync.local_convex.LocalConvex` (the outbox benchmark
uses it too); this module is what tests import:

    from tests.convex_server import TOKEN, Fault, FaultKind, LocalConvex, unused_port

    def test_something(convex_server):          # fixture, registered in tests/conftest.py
        convex_server.inject(Fault(FaultKind.HTTP_500))
        ... UpstreamSettings(url=convex_server.url, token=TOKEN) ...
        assert convex_server.duplicates == 0 and len(convex_server.items) == n

`convex_server.items` holds each delivered item once by UUID, `deliveries` counts every
delivery, `requests` logs every request (status None: no reply sent), `reject_ids` makes
the deployment refuse those items one by one. `stop()` / `start()` take the server off
and back on the same port (the device goes offline and comes back).
"""

import socket
from collections.abc import Iterator

import pytest

from edgecoach.sync.local_convex import Fault, FaultKind, LocalConvex, Request

TOKEN = "test-upstream-token-5f3a9c"

__all__ = ["TOKEN", "Fault", "FaultKind", "LocalConvex", "Request", "convex_server",
           "unused_port"]


def unused_port() -> int:
    """A local port nothing listens on (connections to it are refused: offline)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def convex_server() -> Iterator[LocalConvex]:
    """A running LocalConvex that expects `TOKEN`; stopped after the test."""
    with LocalConvex(token=TOKEN) as server:
        yield server
