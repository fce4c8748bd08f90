"""Earbuds through BlueZ on D-Bus: is an audio headset/headphone connected right now?

The watcher reads BlueZ's objects once (GetManagedObjects), then follows
PropertiesChanged and InterfacesAdded/Removed, so `has_earbuds` changes as soon as
BlueZ signals a connect or a disconnect. Without a system bus or BlueZ it reports
hasEarbuds=false, says so once in the log, and keeps retrying with backoff.
"""

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from dbus_fast import BusType, Message, MessageType
from dbus_fast.aio import MessageBus
from dbus_fast.errors import DBusFastError

from edgecoach.errors import SourceError
from edgecoach.resilience import Backoff, Sleep, wait
from edgecoach.sources.items import EarbudsState

log = logging.getLogger(__name__)

BLUEZ_SERVICE = "org.bluez"
DEVICE_INTERFACE = "org.bluez.Device1"
OBJECT_MANAGER_INTERFACE = "org.freedesktop.DBus.ObjectManager"
PROPERTIES_INTERFACE = "org.freedesktop.DBus.Properties"
DBUS_SERVICE = "org.freedesktop.DBus"
DBUS_PATH = "/org/freedesktop/DBus"
MATCH_RULES = (
    f"type='signal',sender='{BLUEZ_SERVICE}',interface='{PROPERTIES_INTERFACE}',"
    "member='PropertiesChanged'",
    f"type='signal',sender='{BLUEZ_SERVICE}',interface='{OBJECT_MANAGER_INTERFACE}'",
    f"type='signal',sender='{DBUS_SERVICE}',interface='{DBUS_SERVICE}',"
    f"member='NameOwnerChanged',arg0='{BLUEZ_SERVICE}'",
)
# Audio sink (A2DP), headset, hands-free, A2DP profile, headset HS role.
AUDIO_PROFILE_PREFIXES = ("0000110b", "00001108", "0000111e", "0000110d", "00001131")
AUDIO_ICONS = {"audio-headset", "audio-headphones", "audio-card"}
RETRY_MAX_DELAY_SECONDS = 30.0


class BluezUnavailable(SourceError):
    """The system bus answered but BlueZ is not on it."""


def is_audio_output(properties: Mapping[str, Any]) -> bool:
    """A device that plays audio to the athlete: an audio profile UUID or an audio icon."""
    uuids = properties.get("UUIDs") or []
    if any(str(uuid).lower().startswith(AUDIO_PROFILE_PREFIXES) for uuid in uuids):
        return True
    return properties.get("Icon") in AUDIO_ICONS


class EarbudsWatcher:
    """Follows BlueZ and keeps `has_earbuds` current.

    `bus_address` is a D-Bus address (None: the system bus). `watching` is true while
    BlueZ's objects are followed. `enabled=False`
    (devicePreferences.autoDetectEarbuds off) makes `run` return at once, leaving
    has_earbuds false. `on_change` is called, and an EarbudsState put on the queue
    given to `run`, each time has_earbuds flips.
    """

    def __init__(self, bus_address: str | None = None, *, enabled: bool = True,
                 on_change: Callable[[EarbudsState], None] | None = None,
                 backoff: Backoff | None = None, sleep: Sleep = asyncio.sleep,
                 clock: Callable[[], float] = time.time) -> None:
        self.bus_address = bus_address
        self.enabled = enabled
        self.on_change = on_change
        self.backoff = backoff or Backoff(maximum=RETRY_MAX_DELAY_SECONDS)
        self.sleep = sleep
        self.clock = clock
        self._devices: dict[str, dict[str, Any]] = {}
        self._has_earbuds = False
        self.watching = False
        self._status: str | None = None
        self._queue: asyncio.Queue | None = None
        self._bluez_left = asyncio.Event()
        self._early_signals: list[Message] | None = None

    @property
    def has_earbuds(self) -> bool:
        return self._has_earbuds

    @property
    def earbuds(self) -> tuple[str, ...]:
        """Names of the connected audio devices."""
        return tuple(sorted(
            str(props.get("Alias") or props.get("Name") or props.get("Address") or path)
            for path, props in self._devices.items()
            if props.get("Connected") and is_audio_output(props)))

    async def run(self, queue: asyncio.Queue | None = None) -> None:
        """Watch until cancelled; a missing bus or BlueZ is retried, never raised."""
        if not self.enabled:
            log.info("earbud detection off (autoDetectEarbuds=false): hasEarbuds=false")
            return
        self._queue = queue
        while True:
            try:
                await self._watch()
            except (OSError, DBusFastError, SourceError, EOFError) as error:
                self._set_status("absent", f"BlueZ not reachable ({type(error).__name__}: "
                                 f"{error}): running with hasEarbuds=false")
            self._devices.clear()
            self._refresh()
            await wait(self.backoff, self.sleep)

    async def _watch(self) -> None:
        bus = await MessageBus(bus_address=self.bus_address, bus_type=BusType.SYSTEM).connect()
        self._bluez_left.clear()
        try:
            bus.add_message_handler(self._on_message)
            for rule in MATCH_RULES:
                await _call(bus, DBUS_SERVICE, DBUS_PATH, DBUS_SERVICE, "AddMatch", "s", [rule])
            # Signals that arrive around the snapshot are replayed on top of it, in order:
            # the last signal touching a property is the newest truth either way.
            self._early_signals = []
            reply = await _call(bus, BLUEZ_SERVICE, "/", OBJECT_MANAGER_INTERFACE,
                                "GetManagedObjects")
            self._devices = {
                path: _unwrap(interfaces[DEVICE_INTERFACE])
                for path, interfaces in reply.body[0].items() if DEVICE_INTERFACE in interfaces
            }
            early, self._early_signals = self._early_signals, None
            for message in early:
                self._on_message(message)
            self.backoff.reset()
            self.watching = True
            self._set_status("watching", f"watching BlueZ for earbuds ({len(self._devices)} "
                             "known device(s))")
            self._refresh()
            await self._until_gone(bus)
        finally:
            self.watching = False
            self._early_signals = None
            bus.disconnect()

    async def _until_gone(self, bus: MessageBus) -> None:
        """Wait while BlueZ is watched; raise when the bus closes or BlueZ leaves it."""
        closed = asyncio.ensure_future(bus.wait_for_disconnect())
        left = asyncio.ensure_future(self._bluez_left.wait())
        try:
            await asyncio.wait([closed, left], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (closed, left):
                waiter.cancel()
            if closed.done() and not closed.cancelled():
                closed.exception()  # the reason is the bus closing; no "never retrieved"
        if self._bluez_left.is_set():
            raise BluezUnavailable("org.bluez left the bus")
        raise EOFError("the system bus connection closed")

    def _on_message(self, message: Message) -> None:
        if message.message_type != MessageType.SIGNAL:
            return
        if self._early_signals is not None:
            self._early_signals.append(message)
            return
        try:
            self._apply(message.interface or "", message.member or "", message.path or "",
                        message.body)
        except (IndexError, KeyError, TypeError, AttributeError) as error:
            log.debug("ignored malformed BlueZ signal %s.%s: %s", message.interface,
                      message.member, error)
            return
        self._refresh()

    def _apply(self, interface: str, member: str, path: str, body: list[Any]) -> None:
        if interface == PROPERTIES_INTERFACE and member == "PropertiesChanged":
            changed_interface, changed, invalidated = body
            if changed_interface == DEVICE_INTERFACE and path in self._devices:
                self._devices[path].update(_unwrap(changed))
                for name in invalidated:
                    self._devices[path].pop(name, None)
        elif interface == OBJECT_MANAGER_INTERFACE and member == "InterfacesAdded":
            object_path, interfaces = body
            if DEVICE_INTERFACE in interfaces:
                self._devices[object_path] = _unwrap(interfaces[DEVICE_INTERFACE])
        elif interface == OBJECT_MANAGER_INTERFACE and member == "InterfacesRemoved":
            object_path, interfaces = body
            if DEVICE_INTERFACE in interfaces:
                self._devices.pop(object_path, None)
        elif interface == DBUS_SERVICE and member == "NameOwnerChanged":
            _, _, new_owner = body
            if not new_owner:
                self._bluez_left.set()

    def _refresh(self) -> None:
        devices = self.earbuds
        has_earbuds = bool(devices)
        if has_earbuds == self._has_earbuds:
            return
        self._has_earbuds = has_earbuds
        log.info("earbuds %s%s", "connected: " if has_earbuds else "disconnected",
                 ", ".join(devices))
        state = EarbudsState(has_earbuds=has_earbuds, devices=devices, timestamp=self.clock())
        if self.on_change:
            self.on_change(state)
        if self._queue is not None:
            self._queue.put_nowait(state)

    def _set_status(self, status: str, message: str) -> None:
        if status != self._status:
            self._status = status
            (log.warning if status == "absent" else log.info)(message)


async def _call(bus: MessageBus, destination: str, path: str, interface: str, member: str,
                signature: str = "", body: list[Any] | None = None) -> Message:
    reply = await bus.call(Message(destination=destination, path=path, interface=interface,
                                   member=member, signature=signature, body=body or []))
    if reply is None or reply.message_type == MessageType.ERROR:
        detail = reply.body[0] if reply is not None and reply.body else ""
        name = reply.error_name if reply is not None else "no reply"
        raise BluezUnavailable(f"{destination} {member}: {name} {detail}".strip())
    return reply


def _unwrap(properties: Mapping[str, Any]) -> dict[str, Any]:
    """D-Bus variants to plain values."""
    return {name: getattr(value, "value", value) for name, value in properties.items()}
