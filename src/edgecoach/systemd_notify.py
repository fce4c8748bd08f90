"""sd_notify READY / WATCHDOG / STOPPING when run under systemd (Type=notify)."""

import asyncio
import logging
import os
import socket
from collections.abc import Callable

log = logging.getLogger(__name__)


class ServiceNotifier:
    """Talks to systemd only when NOTIFY_SOCKET is set; otherwise every call is a no-op."""

    def __init__(self, environ: dict[str, str] | None = None) -> None:
        environ = dict(os.environ if environ is None else environ)
        self.enabled = bool(environ.get("NOTIFY_SOCKET"))
        watchdog_usec = int(environ.get("WATCHDOG_USEC", "0") or 0)
        # Ping at half the watchdog period, as systemd recommends.
        self.watchdog_interval = watchdog_usec / 2_000_000 if watchdog_usec else None
        address = environ.get("NOTIFY_SOCKET", "")
        # A leading "@" names a socket in the abstract namespace.
        self._address = "\0" + address[1:] if address.startswith("@") else address

    def notify(self, state: str) -> None:
        """One datagram to systemd's notify socket (sd_notify(3)); never raises."""
        if not self.enabled:
            return
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto(state.encode(), self._address)
        except OSError as error:
            log.warning("sd_notify failed: %s", error)

    def ready(self, status: str) -> None:
        self.notify(f"READY=1\nSTATUS={status}")

    def stopping(self) -> None:
        self.notify("STOPPING=1")

    async def watchdog(self, alive: Callable[[], bool] = lambda: True) -> None:
        """Ping the watchdog while the event loop runs and `alive()` holds (the daemon's
        consumer): a stuck loop or a dead or stuck consumer stops the pings."""
        if self.watchdog_interval is None:
            return
        while True:
            if alive():
                self.notify("WATCHDOG=1")
            else:
                log.error("event consumer not alive: watchdog pings withheld")
            await asyncio.sleep(self.watchdog_interval)
