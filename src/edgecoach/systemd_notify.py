"""sd_notify READY / WATCHDOG / STOPPING when run under systemd (Type=notify)."""

import asyncio
import logging
import os

import sdnotify

log = logging.getLogger(__name__)


class ServiceNotifier:
    """Talks to systemd only when NOTIFY_SOCKET is set; otherwise every call is a no-op."""

    def __init__(self, environ: dict[str, str] | None = None) -> None:
        environ = dict(os.environ if environ is None else environ)
        self.enabled = bool(environ.get("NOTIFY_SOCKET"))
        watchdog_usec = int(environ.get("WATCHDOG_USEC", "0") or 0)
        # Ping at half the watchdog period, as systemd recommends.
        self.watchdog_interval = watchdog_usec / 2_000_000 if watchdog_usec else None
        self._notifier = sdnotify.SystemdNotifier() if self.enabled else None

    def notify(self, state: str) -> None:
        if self._notifier is not None:
            self._notifier.notify(state)

    def ready(self, status: str) -> None:
        self.notify(f"READY=1\nSTATUS={status}")

    def stopping(self) -> None:
        self.notify("STOPPING=1")

    async def watchdog(self) -> None:
        """Ping the watchdog while the event loop is alive (a stuck loop stops the pings)."""
        if self.watchdog_interval is None:
            return
        while True:
            self.notify("WATCHDOG=1")
            await asyncio.sleep(self.watchdog_interval)
