"""Connection limits of the API on a real uvicorn: a connection that sends no request is
closed at its deadline, a flood of idle connections never locks out a request with the
token (over TCP or the CLI's socket), and what was closed is one log line, not one each."""

import asyncio
import logging
from pathlib import Path

import httpx
import pytest

from edgecoach.api import ApiServer, create_app
from edgecoach.api.connections import ACCEPT_FAILED, ConnectionLimits
from edgecoach.settings import ApiSettings
from edgecoach.store import Store
from tests.daemon_double import QueueDaemonPort

TOKEN = "c" * 43
AUTH = {"Authorization": f"Bearer {TOKEN}"}
LIMITS = ConnectionLimits(max_connections=8, header_timeout=0.5)


def make_server(store: Store, cli_socket: Path | None = None) -> ApiServer:
    app = create_app(store, TOKEN, QueueDaemonPort(asyncio.Queue()), user_id="athlete")
    return ApiServer(app, ApiSettings(port=0, cli_socket=cli_socket), limits=LIMITS)


async def half_open(address: str, count: int) -> list[tuple]:
    """`count` connections that start a request and never finish its headers."""
    host, port = address.removeprefix("http://").split(":")
    opened = []
    for _ in range(count):
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(b"POST /v1/events HTTP/1.1\r\nHost: edgecoach\r\n")
        await writer.drain()
        opened.append((reader, writer))
    return opened


async def closed_by_server(reader: asyncio.StreamReader) -> bool:
    try:
        return await asyncio.wait_for(reader.read(), 0.05) == b""
    except (TimeoutError, ConnectionError):
        return isinstance(reader.exception(), ConnectionError)


async def test_a_connection_without_a_request_is_closed_at_its_deadline(
        store: Store) -> None:
    async with make_server(store) as server:
        [(reader, writer)] = await half_open(server.address, 1)
        assert await asyncio.wait_for(reader.read(), 5) == b""  # closed, no answer
        writer.close()
        async with httpx.AsyncClient(base_url=server.address, headers=AUTH) as client:
            assert (await client.get("/v1/status")).status_code == 200


async def test_a_flood_of_idle_connections_never_locks_out_the_token(
        store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cli_socket = tmp_path / "run" / "api.sock"
    caplog.set_level(logging.WARNING, logger="edgecoach.api.connections")
    async with make_server(store, cli_socket) as server:
        flood = await half_open(server.address, 5 * LIMITS.max_connections)
        await asyncio.sleep(0.1)
        closed = [await closed_by_server(reader) for reader, _ in flood]
        # The oldest were closed to stay within the cap; the newest still wait.
        assert sum(closed) >= len(flood) - LIMITS.max_connections
        async with httpx.AsyncClient(base_url=server.address, headers=AUTH,
                                     timeout=5) as client:
            assert (await client.get("/v1/status")).status_code == 200
        transport = httpx.AsyncHTTPTransport(uds=str(cli_socket))
        async with httpx.AsyncClient(transport=transport, base_url="http://edgecoach",
                                     headers=AUTH, timeout=5) as client:
            assert (await client.get("/v1/status")).status_code == 200
        for _, writer in flood:
            writer.close()
    reports = [record for record in caplog.records if "closed" in record.getMessage()]
    assert len(reports) == 1 and reports[0].exc_info is None
    assert "over the cap" in reports[0].getMessage()


async def test_accept_failures_are_counted_not_one_traceback_each(
        store: Store, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    loop = asyncio.get_running_loop()
    async with make_server(store) as server:
        assert server.socket is not None
        for _ in range(1000):  # what asyncio reports on EMFILE, a thousand times
            loop.call_exception_handler({
                "message": ACCEPT_FAILED, "exception": OSError(24, "Too many open files"),
                "socket": server.socket})
    assert len(caplog.records) == 1
    assert "accept() failed" in caplog.records[0].getMessage()
    assert caplog.records[0].exc_info is None
    assert loop.get_exception_handler() is None  # restored when the server stopped
