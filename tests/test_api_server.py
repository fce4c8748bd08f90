"""serve_api/ApiServer: a real uvicorn in the test's loop, on TCP and on a Unix socket."""

import asyncio
import inspect
import logging
import socket
import stat
from pathlib import Path

import httpx
import pytest

import edgecoach.api as api_package
from edgecoach.api import ApiServer, create_app, serve_api
from edgecoach.api.server import bind_tcp, is_loopback
from edgecoach.daemon import Daemon
from edgecoach.errors import ConfigError
from edgecoach.settings import ApiSettings
from edgecoach.store import Store
from tests.daemon_double import QueueDaemonPort

TOKEN = "u" * 43
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def make_app(store: Store):
    return create_app(store, TOKEN, QueueDaemonPort(asyncio.Queue()), user_id="athlete")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def uds_client(path: Path) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(uds=str(path)),
                             base_url="http://edgecoach", headers=AUTH)


async def test_unix_socket_is_0600_and_serves_the_api(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "run" / "api.sock"
    async with ApiServer(make_app(store), ApiSettings(unix_socket=path)) as server:
        assert server.address == str(path)
        assert stat.S_ISSOCK(path.stat().st_mode)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        # httpx's sync transport, as a companion app written against httpx would use it.
        transport = httpx.HTTPTransport(uds=str(path))
        with httpx.Client(transport=transport, base_url="http://edgecoach") as client:
            reply = await asyncio.to_thread(client.get, "/v1/status", headers=AUTH)
            refused = await asyncio.to_thread(client.get, "/v1/status")
        assert reply.status_code == 200
        assert reply.json()["userId"] == "athlete"
        assert refused.status_code == 401
    assert not path.exists()


async def test_a_stale_socket_file_is_replaced(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "api.sock"
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))
    stale.close()  # the file stays behind, as after a crash
    async with ApiServer(make_app(store), ApiSettings(unix_socket=path)), uds_client(
        path
    ) as client:
        assert (await client.get("/v1/status")).status_code == 200


async def test_a_regular_file_in_the_socket_path_is_not_replaced(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "api.sock"
    path.write_text("precious")
    with pytest.raises(ConfigError, match="not a socket"):
        async with ApiServer(make_app(store), ApiSettings(unix_socket=path)):
            pass
    assert path.read_text() == "precious"


async def test_cancelling_serve_api_stops_the_server(store: Store) -> None:
    port = free_port()
    task = asyncio.create_task(serve_api(make_app(store), ApiSettings(port=port)))
    url = f"http://127.0.0.1:{port}/v1/status"
    async with httpx.AsyncClient(headers=AUTH) as client:
        for _ in range(200):
            try:
                reply = await client.get(url)
                break
            except httpx.ConnectError:
                await asyncio.sleep(0.01)
        assert reply.status_code == 200
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        with pytest.raises(httpx.ConnectError):
            await client.get(url, headers={"Connection": "close"})


async def test_a_port_in_use_is_a_config_error(store: Store) -> None:
    async with ApiServer(make_app(store), ApiSettings(port=0)) as first:
        taken = int(first.address.rsplit(":", 1)[1])
        with pytest.raises(ConfigError, match=f"127.0.0.1:{taken}"):
            async with ApiServer(make_app(store), ApiSettings(port=taken)):
                pass


def test_default_settings_bind_loopback_only() -> None:
    settings = ApiSettings()
    assert settings.host == "127.0.0.1" and settings.unix_socket is None


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("localhost", True),
     ("0.0.0.0", False), ("::", False), ("192.168.1.10", False), ("example.org", False)],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_binding_beyond_loopback_logs_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    # Bound but never listening: nothing can connect during the test.
    with caplog.at_level(logging.WARNING, logger="edgecoach.api.server"):
        bind_tcp("0.0.0.0", 0).close()
        assert "beyond loopback" in caplog.text
        caplog.clear()
        bind_tcp("127.0.0.1", 0).close()
        assert caplog.text == ""


def test_a_short_token_is_refused(store: Store) -> None:
    with pytest.raises(ConfigError, match="at least 43"):
        create_app(store, "", QueueDaemonPort(asyncio.Queue()))


# --- the public API other parts call ----------------------------------------------------

def test_public_api_is_pinned() -> None:
    assert sorted(api_package.__all__) == [
        "ApiServer", "DaemonPort", "TalkDirection", "create_app", "ensure_token",
        "serve_api"]
    assert str(inspect.signature(create_app)) == (
        "(store: edgecoach.store.Store, token: str, daemon: edgecoach.api.port.DaemonPort, *, "
        "user_id: str | None = None) -> fastapi.applications.FastAPI")
    assert list(inspect.signature(api_package.serve_api).parameters) == ["app", "settings"]
    assert list(inspect.signature(api_package.ensure_token).parameters) == ["path"]
    # The daemon is the one DaemonPort the package ships.
    for method in ("submit", "status", "talk"):
        assert callable(getattr(Daemon, method))
    assert inspect.iscoroutinefunction(Daemon.submit)
    assert inspect.iscoroutinefunction(Daemon.talk)
    assert not inspect.iscoroutinefunction(Daemon.status)
