"""Pairing the athlete's heart-rate strap and earbuds through BlueZ over D-Bus (dbus-fast),
so no one needs bluetoothctl: scan (filtered to straps and audio sinks), pair + trust +
connect, forget, list. D-Bus error replies become typed errors here, in one place."""

import asyncio
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

from dbus_fast import BusType, Message, MessageType, Variant
from dbus_fast.aio import MessageBus

from edgecoach.errors import EdgeCoachError, ValidationFailed
from edgecoach.sources.bluez import (
    BLUEZ_SERVICE,
    DEVICE_INTERFACE,
    OBJECT_MANAGER_INTERFACE,
    PROPERTIES_INTERFACE,
    is_audio_output,
)

ADAPTER_INTERFACE = "org.bluez.Adapter1"
HEART_RATE_SERVICE = "0000180d-0000-1000-8000-00805f9b34fb"
AUDIO_SINK_SERVICE = "0000110b-0000-1000-8000-00805f9b34fb"
HANDS_FREE_SERVICE = "0000111e-0000-1000-8000-00805f9b34fb"
DISCOVERY_UUIDS = [HEART_RATE_SERVICE, AUDIO_SINK_SERVICE, HANDS_FREE_SERVICE]
ADDRESS = re.compile(r"^[0-9A-F]{2}(:[0-9A-F]{2}){5}$")
POLL_SECONDS = 0.25
PAIR_TIMEOUT_SECONDS = 60.0
CALL_TIMEOUT_SECONDS = 10.0
REFUSED_ERRORS = {"org.bluez.Error.AuthenticationFailed", "org.bluez.Error.AuthenticationRejected",
                  "org.bluez.Error.AuthenticationCanceled", "org.bluez.Error.AuthenticationTimeout",
                  "org.bluez.Error.ConnectionAttemptFailed", "org.bluez.Error.Failed"}

DeviceKind = Literal["heart-rate strap", "audio", "other"]


class BluetoothError(EdgeCoachError):
    """Something on the Bluetooth side stops the request; the message says what to do."""


class NoAdapter(BluetoothError):
    pass


class AdapterOff(BluetoothError):
    pass


class PairingRefused(BluetoothError):
    pass


class AlreadyPaired(BluetoothError):
    pass


class UnknownDevice(BluetoothError):
    pass


@dataclass(frozen=True)
class Device:
    address: str
    name: str
    kind: DeviceKind
    paired: bool
    trusted: bool
    connected: bool
    rssi: int | None
    path: str

    def to_json_dict(self) -> dict[str, Any]:
        return {"address": self.address, "name": self.name, "kind": self.kind,
                "paired": self.paired, "trusted": self.trusted, "connected": self.connected,
                "rssi": self.rssi}


def device_kind(properties: Mapping[str, Any]) -> DeviceKind:
    uuids = {str(uuid).lower() for uuid in properties.get("UUIDs") or []}
    if HEART_RATE_SERVICE in uuids or properties.get("Appearance") in range(832, 848):
        return "heart-rate strap"  # 0x180D, or a heart-rate sensor's appearance (0x0340..)
    return "audio" if is_audio_output(properties) else "other"


def check_address(address: str) -> str:
    """A Bluetooth address as BlueZ writes it (upper case), or ValidationFailed."""
    normalized = address.strip().upper()
    if not ADDRESS.match(normalized):
        raise ValidationFailed("ADDRESS", f"{address!r} is not a Bluetooth address "
                               "like F4:4E:FD:00:11:22")
    return normalized


class BluezDevices:
    """One connection to BlueZ on the system bus (`bus_address` None: the real one)."""

    def __init__(self, bus_address: str | None = None) -> None:
        self.bus_address = bus_address
        self._bus: MessageBus | None = None

    async def __aenter__(self) -> "BluezDevices":
        try:
            self._bus = await MessageBus(bus_address=self.bus_address,
                                         bus_type=BusType.SYSTEM).connect()
        except (OSError, EOFError) as error:
            raise NoAdapter(f"cannot reach the system D-Bus ({error}); "
                            "is this a Linux machine with dbus running?") from None
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        if self._bus is not None:
            self._bus.disconnect()

    # Reading.

    async def adapter(self, power_on: bool = False) -> str:
        """The first adapter's path: NoAdapter without one, AdapterOff when it is off."""
        objects = await self._objects()
        adapters = sorted(path for path, interfaces in objects.items()
                          if ADAPTER_INTERFACE in interfaces)
        if not adapters:
            raise NoAdapter("no Bluetooth adapter found (is one plugged in and not blocked "
                            "by rfkill?)")
        path = adapters[0]
        if not objects[path][ADAPTER_INTERFACE].get("Powered"):
            if not power_on:
                raise AdapterOff(f"the Bluetooth adapter {path.rsplit('/', 1)[-1]} is off; "
                                 "run again with --power-on to switch it on")
            await self._set(path, ADAPTER_INTERFACE, "Powered", Variant("b", True))
        return path

    async def devices(self) -> list[Device]:
        objects = await self._objects()
        return sorted((_device(path, interfaces[DEVICE_INTERFACE])
                       for path, interfaces in objects.items()
                       if DEVICE_INTERFACE in interfaces), key=lambda d: (d.kind, d.address))

    async def paired(self) -> list[Device]:
        await self.adapter()
        return [device for device in await self.devices() if device.paired]

    # Acting.

    async def scan(self, seconds: float, on_found: Callable[[Device], None] | None = None,
                   on_tick: Callable[[float], None] | None = None,
                   power_on: bool = False) -> list[Device]:
        """Discover heart-rate straps and audio sinks for `seconds`; returns those seen."""
        adapter = await self.adapter(power_on)
        await self._call(adapter, ADAPTER_INTERFACE, "SetDiscoveryFilter", "a{sv}", [
            {"UUIDs": Variant("as", DISCOVERY_UUIDS), "Transport": Variant("s", "auto")}])
        await self._call(adapter, ADAPTER_INTERFACE, "StartDiscovery")
        found: dict[str, Device] = {}
        started = time.monotonic()
        try:
            while (elapsed := time.monotonic() - started) < seconds:
                for device in await self.devices():
                    if device.kind != "other" and device.address not in found:
                        found[device.address] = device
                        if on_found:
                            on_found(device)
                if on_tick:
                    on_tick(elapsed)
                await asyncio.sleep(POLL_SECONDS)
        finally:
            await self._call(adapter, ADAPTER_INTERFACE, "StopDiscovery")
        return list(found.values())

    async def pair(self, address: str, power_on: bool = False) -> Device:
        """Pair, trust (so it reconnects by itself) and connect a device seen in a scan."""
        await self.adapter(power_on)
        device = await self._find(address)
        if device.paired:
            raise AlreadyPaired(f"{device.name} ({device.address}) is already paired")
        reply = await self._call(device.path, DEVICE_INTERFACE, "Pair",
                                 timeout=PAIR_TIMEOUT_SECONDS, check=False)
        if reply.message_type == MessageType.ERROR:
            if reply.error_name == "org.bluez.Error.AlreadyExists":
                raise AlreadyPaired(f"{device.name} ({device.address}) is already paired")
            if reply.error_name in REFUSED_ERRORS:
                raise PairingRefused(f"{device.name} ({device.address}) refused pairing "
                                     f"({_detail(reply)}); put it in pairing mode and retry")
            raise BluetoothError(f"pairing {device.address} failed: {_detail(reply)}")
        await self._set(device.path, DEVICE_INTERFACE, "Trusted", Variant("b", True))
        connect = await self._call(device.path, DEVICE_INTERFACE, "Connect",
                                   timeout=PAIR_TIMEOUT_SECONDS, check=False)
        if connect.message_type == MessageType.ERROR and (
                connect.error_name != "org.bluez.Error.AlreadyConnected"):
            raise BluetoothError(f"{device.name} is paired and trusted but did not connect "
                                 f"({_detail(connect)}); it will when it is next in range")
        return await self._find(address)

    async def forget(self, address: str) -> Device:
        """Remove a device from BlueZ (unpairs it)."""
        adapter = await self.adapter()
        device = await self._find(address)
        await self._call(adapter, ADAPTER_INTERFACE, "RemoveDevice", "o", [device.path])
        return device

    # D-Bus.

    async def _find(self, address: str) -> Device:
        wanted = check_address(address)
        for device in await self.devices():
            if device.address.upper() == wanted:
                return device
        raise UnknownDevice(f"no device {wanted} known to BlueZ; run `edgecoach devices scan` "
                            "with the device in pairing mode first")

    async def _objects(self) -> dict[str, dict[str, dict[str, Any]]]:
        reply = await self._call("/", OBJECT_MANAGER_INTERFACE, "GetManagedObjects")
        return {path: {name: {key: getattr(value, "value", value)
                              for key, value in properties.items()}
                       for name, properties in interfaces.items()}
                for path, interfaces in reply.body[0].items()}

    async def _set(self, path: str, interface: str, name: str, value: Variant) -> None:
        await self._call(path, PROPERTIES_INTERFACE, "Set", "ssv", [interface, name, value])

    async def _call(self, path: str, interface: str, member: str, signature: str = "",
                    body: list[Any] | None = None, timeout: float = CALL_TIMEOUT_SECONDS,
                    check: bool = True) -> Message:
        assert self._bus is not None, "use `async with BluezDevices(...)`"
        try:
            reply = await asyncio.wait_for(self._bus.call(Message(
                destination=BLUEZ_SERVICE, path=path, interface=interface, member=member,
                signature=signature, body=body or [])), timeout)
        except TimeoutError:
            raise BluetoothError(f"BlueZ did not answer {member} within {timeout:g} s") from None
        if reply is None:
            raise BluetoothError(f"BlueZ sent no reply to {member}")
        if reply.message_type == MessageType.ERROR and check:
            if reply.error_name == "org.freedesktop.DBus.Error.ServiceUnknown":
                raise NoAdapter("BlueZ is not running (start bluetoothd: "
                                "sudo systemctl start bluetooth)")
            raise BluetoothError(f"BlueZ {member} failed: {_detail(reply)}")
        return reply


def _device(path: str, properties: Mapping[str, Any]) -> Device:
    return Device(address=str(properties.get("Address", "")),
                  name=str(properties.get("Alias") or properties.get("Name") or "unnamed"),
                  kind=device_kind(properties), paired=bool(properties.get("Paired")),
                  trusted=bool(properties.get("Trusted")),
                  connected=bool(properties.get("Connected")), rssi=properties.get("RSSI"),
                  path=path)


def _detail(reply: Message) -> str:
    text = reply.body[0] if reply.body and isinstance(reply.body[0], str) else ""
    return f"{reply.error_name}: {text}" if text else str(reply.error_name)
