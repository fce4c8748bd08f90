"""Running the API with uvicorn inside the daemon's own asyncio loop.

The daemon owns SIGTERM: uvicorn installs no signal handler here, and cancelling the
task that runs `serve_api` shuts the server down (open requests get a grace period).
The listening socket is made here, not by uvicorn, so a Unix socket is 0600 from the
moment it exists and a TCP socket binds where the settings say, loopback by default.
"""

import asyncio
import contextlib
import ipaddress
import logging
import os
import socket
import stat
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

from edgecoach.api.connections import ConnectionGuard, ConnectionLimits, quiet_accept_failures
from edgecoach.errors import ConfigError
from edgecoach.settings import ApiSettings

log = logging.getLogger(__name__)

SOCKET_MODE = 0o600
GRACEFUL_SHUTDOWN_SECONDS = 5
STARTUP_POLL_SECONDS = 0.01
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}
# asyncio accepts up to this many connections at each wake-up, each a descriptor until
# the guard closes it: with uvicorn's 2,048 a flood could outrun LimitNOFILE=1024.
ACCEPT_BACKLOG = 128


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its signal handlers: the daemon's loop decides when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind_tcp(host: str, port: int) -> socket.socket:
    if not is_loopback(host):
        log.warning("API listens on %s, beyond loopback: any host that reaches it may try "
                    "the token", host)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise ConfigError(f"api: cannot listen on {host}:{port}: {error}") from None
    return sock


@contextlib.contextmanager
def _private_umask() -> Iterator[None]:
    # bind() creates the socket file with the umask's mode: make that 0600 from the start.
    previous = os.umask(0o177)
    try:
        yield
    finally:
        os.umask(previous)


def bind_unix(path: Path) -> socket.socket:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.exists() or path.is_symlink():
        if not stat.S_ISSOCK(path.lstat().st_mode):
            raise ConfigError(f"api: {path} exists and is not a socket; refusing to replace it")
        path.unlink()  # left over from a previous run that did not stop cleanly
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        with _private_umask():
            sock.bind(str(path))
        os.chmod(path, SOCKET_MODE)
    except OSError as error:
        sock.close()
        raise ConfigError(f"api: cannot listen on {path}: {error}") from None
    return sock


def bind_private_unix(path: Path) -> socket.socket:
    """A Unix socket in a folder only this user may write in (the runtime dir): a socket
    elsewhere could be swapped for another user's."""
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        info = folder.lstat()
    except OSError as error:
        raise ConfigError(f"api: cannot make {folder}: {error.strerror}") from None
    if (not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid()
            or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)):
        raise ConfigError(f"api: {folder} must be a folder of this user that no one else may "
                          "write in; refusing to put the CLI's socket there")
    return bind_unix(path)


class ApiServer:
    """`async with ApiServer(app, settings) as server:` serves until the block ends.

    Besides the TCP socket, the CLI's private Unix socket (`settings.cli_socket`) is served,
    with connection limits of its own (connections.py)."""

    def __init__(self, app: ASGIApp, settings: ApiSettings,
                 limits: ConnectionLimits | None = None) -> None:
        self.app = app
        self.settings = settings
        self.socket: socket.socket | None = None
        self.cli_socket: socket.socket | None = None
        self.guard = ConnectionGuard(limits or ConnectionLimits())
        self._server: _EmbeddedServer | None = None
        self._task: asyncio.Task | None = None
        self._restore_exception_handler: Callable[[], None] | None = None

    @property
    def address(self) -> str:
        """Where clients connect: 'http://127.0.0.1:8765' or the Unix socket's path."""
        if self.settings.unix_socket is not None:
            return str(self.settings.unix_socket)
        assert self.socket is not None, "server not started"
        host, port = self.socket.getsockname()[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    async def __aenter__(self) -> "ApiServer":
        settings = self.settings
        if settings.unix_socket is not None:
            self.socket = bind_unix(settings.unix_socket)
        else:
            self.socket = bind_tcp(settings.host, settings.port)
            if settings.cli_socket is not None:
                try:
                    self.cli_socket = bind_private_unix(settings.cli_socket)
                except ConfigError:
                    self.socket.close()
                    raise
        sockets = [sock for sock in (self.socket, self.cli_socket) if sock is not None]
        config = uvicorn.Config(
            self.app, log_config=None, lifespan="off", server_header=False, access_log=False,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS, proxy_headers=False,
            http=self.guard.protocol(), backlog=ACCEPT_BACKLOG)
        self._server = _EmbeddedServer(config)
        self._restore_exception_handler = quiet_accept_failures(asyncio.get_running_loop(),
                                                                self.guard)
        self._task = asyncio.create_task(self._server.serve(sockets=sockets),
                                         name="edgecoach-api")
        try:
            while not self._server.started:
                if self._task.done():
                    await self._task  # raises why the server could not start
                    raise ConfigError("api: server stopped during start-up")
                await asyncio.sleep(STARTUP_POLL_SECONDS)
        except BaseException:
            # Cancelled or failed while starting: leave no socket or task behind.
            await self._stop()
            raise
        log.info("API listening on %s", self.address)
        return self

    async def wait_closed(self) -> None:
        """Return (or raise) when the server stops by itself: the daemon supervises it."""
        assert self._task is not None, "server not started"
        await asyncio.shield(self._task)

    async def __aexit__(self, *exc_info: object) -> None:
        await self._stop()
        log.info("API stopped")

    async def _stop(self) -> None:
        assert self._server is not None and self._task is not None and self.socket is not None
        self._server.should_exit = True
        # Shielded: a second cancellation must not leave the socket half closed.
        try:
            await asyncio.shield(self._task)
        except Exception:
            log.exception("API server failed")
        self.socket.close()
        if self._restore_exception_handler is not None:
            self._restore_exception_handler()
        if self.settings.unix_socket is not None:
            with contextlib.suppress(FileNotFoundError):
                self.settings.unix_socket.unlink()
        if self.cli_socket is not None and self.settings.cli_socket is not None:
            self.cli_socket.close()
            with contextlib.suppress(FileNotFoundError):
                self.settings.cli_socket.unlink()


async def serve_api(app: ASGIApp, settings: ApiSettings) -> None:
    """Serve `app` until the calling task is cancelled (the daemon's SIGTERM path)."""
    async with ApiServer(app, settings):
        await asyncio.Event().wait()
