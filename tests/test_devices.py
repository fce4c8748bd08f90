"""`edgecoach devices` against python-dbusmock's BlueZ on a private system bus: a strap
found, paired and trusted; the clear errors (adapter off, none, refused, already paired)."""
# The bus fixtures come from tests/test_bluez.py; their names are the tests' parameters.
# ruff: noqa: F811

import asyncio
import json
import os

import pytest
from dbus_fast import Variant

from edgecoach.cli import main
from edgecoach.devices import (
    AdapterOff,
    AlreadyPaired,
    BluezDevices,
    Device,
    NoAdapter,
    PairingRefused,
    UnknownDevice,
)
from edgecoach.devices.bluez import HEART_RATE_SERVICE
from tests.test_bluez import (  # noqa: F401 (fixtures)
    A2DP_SINK,
    EARBUDS,
    PHONE,
    BluezControl,
    bluez,
    system_bus,
)

STRAP = "E0:71:2C:AA:BB:01"
pytestmark = pytest.mark.skipif(
    not os.path.exists("/usr/bin/dbus-daemon"), reason="dbus-daemon is not installed")


# The template's Pair gives every device an Android phone's UUIDs, and its Connect leaves
# the Connected property false; bluetoothd keeps a device's services and sets Connected.
PAIR_AS_BLUETOOTHD = """
if self.Get('org.bluez.Device1', 'Paired'):
    raise dbus.exceptions.DBusException('Already Exists', name='org.bluez.Error.AlreadyExists')
self.UpdateProperties('org.bluez.Device1', {'Paired': dbus.Boolean(True)})
"""
CONNECT_AS_BLUETOOTHD = (
    "self.UpdateProperties('org.bluez.Device1', {'Connected': dbus.Boolean(True)})")


async def add_nearby(bluez: BluezControl) -> str:
    """A strap, earbuds and a phone in range; returns the strap's object path."""
    strap = await bluez.add_device(STRAP, "Polar H10 AB01", [HEART_RATE_SERVICE], "")
    earbuds = await bluez.add_device(EARBUDS, "Buds", [A2DP_SINK], "audio-headset")
    await bluez.add_device(PHONE, "Phone", [], "phone")
    for path in (strap, earbuds):
        for method, code in (("Pair", PAIR_AS_BLUETOOTHD), ("Connect", CONNECT_AS_BLUETOOTHD)):
            await bluez.call(path, "org.freedesktop.DBus.Mock", "AddMethod", "sssss",
                             ["org.bluez.Device1", method, "", "", code])
    return strap


async def set_adapter(bluez: BluezControl, **properties: Variant) -> None:
    await bluez.call("/org/bluez/hci0", "org.freedesktop.DBus.Mock", "UpdateProperties",
                     "sa{sv}", ["org.bluez.Adapter1", properties])


async def test_scan_finds_straps_and_earbuds_as_they_appear(bluez: BluezControl,
                                                            system_bus: str) -> None:
    found: list[Device] = []
    ticks: list[float] = []

    async def appear_later() -> None:
        await asyncio.sleep(0.4)
        await add_nearby(bluez)

    async with BluezDevices(system_bus) as devices:
        appearing = asyncio.create_task(appear_later())
        seen = await devices.scan(1.2, found.append, ticks.append)
        await appearing
        (adapter,) = await bluez.call("/org/bluez/hci0", "org.freedesktop.DBus.Properties",
                                      "Get", "ss", ["org.bluez.Adapter1", "Discovering"])
    assert sorted((d.kind, d.address) for d in seen) == [
        ("audio", EARBUDS), ("heart-rate strap", STRAP)]  # not the phone
    assert [d.address for d in found] == [d.address for d in seen]
    assert len(ticks) >= 3 and ticks == sorted(ticks)
    assert adapter.value is False  # discovery stopped


async def test_a_strap_is_paired_trusted_connected_then_forgotten(bluez: BluezControl,
                                                                  system_bus: str) -> None:
    await add_nearby(bluez)
    async with BluezDevices(system_bus) as devices:
        assert await devices.paired() == []
        strap = await devices.pair(STRAP.lower())
        assert (strap.kind, strap.paired, strap.trusted, strap.connected) == (
            "heart-rate strap", True, True, True)
        assert [d.address for d in await devices.paired()] == [STRAP]
        with pytest.raises(AlreadyPaired, match="Polar H10 AB01 .* is already paired"):
            await devices.pair(STRAP)
        await devices.forget(STRAP)
        assert STRAP not in [d.address for d in await devices.devices()]
        with pytest.raises(UnknownDevice, match="run `edgecoach devices scan`"):
            await devices.forget(STRAP)


async def test_an_adapter_that_is_off_gives_the_clear_error(bluez: BluezControl,
                                                            system_bus: str) -> None:
    await add_nearby(bluez)
    await set_adapter(bluez, Powered=Variant("b", False))
    async with BluezDevices(system_bus) as devices:
        with pytest.raises(AdapterOff, match="adapter hci0 is off; .*--power-on"):
            await devices.pair(STRAP)
        with pytest.raises(AdapterOff):
            await devices.scan(1)
        assert (await devices.pair(STRAP, power_on=True)).paired


async def test_no_adapter_and_refused_pairing(bluez: BluezControl, system_bus: str) -> None:
    strap = await add_nearby(bluez)
    await bluez.call(strap, "org.freedesktop.DBus.Mock", "AddMethod", "sssss", [
        "org.bluez.Device1", "Pair", "", "",
        "raise dbus.exceptions.DBusException('Authentication Rejected', "
        "name='org.bluez.Error.AuthenticationRejected')"])
    async with BluezDevices(system_bus) as devices:
        with pytest.raises(PairingRefused, match="refused pairing .*pairing mode"):
            await devices.pair(STRAP)
        assert not (await devices._find(STRAP)).paired
        await bluez.call("/org/bluez", "org.bluez.Mock", "RemoveAdapterWithDevices", "s",
                         ["hci0"])
        with pytest.raises(NoAdapter, match="no Bluetooth adapter found"):
            await devices.paired()


async def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """The real CLI, in a thread: it runs its own event loop, as from a shell."""
    code = await asyncio.to_thread(main, ["devices", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


async def test_the_cli_scans_pairs_lists_and_explains(bluez: BluezControl, system_bus: str,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys) -> None:
    await add_nearby(bluez)
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", system_bus)
    code, out, err = await cli(capsys, "scan", "--seconds", "1")
    assert code == 0, err
    assert {d["address"] for d in json.loads(out)} == {STRAP, EARBUDS}
    assert f"found {STRAP}" in err  # the progress display names each find
    code, out, _ = await cli(capsys, "pair", STRAP)
    assert code == 0 and json.loads(out)["trusted"] is True
    code, out, _ = await cli(capsys, "list")
    assert [d["address"] for d in json.loads(out)] == [STRAP]
    await set_adapter(bluez, Powered=Variant("b", False))
    code, _, err = await cli(capsys, "pair", EARBUDS)
    assert code == 2 and err.strip().splitlines() == [
        "edgecoach: error: the Bluetooth adapter hci0 is off; "
        "run again with --power-on to switch it on"]
    code, _, err = await cli(capsys, "forget", "not-an-address")
    assert code == 2 and "not a Bluetooth address" in err


async def test_a_bus_without_bluez_or_no_bus_at_all_say_so(system_bus: str) -> None:
    async with BluezDevices(system_bus) as devices:
        with pytest.raises(NoAdapter, match="BlueZ is not running"):
            await devices.paired()
    with pytest.raises(NoAdapter, match="cannot reach the system D-Bus"):
        async with BluezDevices("unix:path=/nonexistent/bus"):
            pass
