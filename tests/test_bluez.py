"""Earbuds through BlueZ, on a private system bus with python-dbusmock's bluez5 template."""

import asyncio
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dbus_fast import Message, MessageType, Variant
from dbus_fast.aio import MessageBus

from edgecoach.sources import EarbudsState, EarbudsWatcher, is_audio_output

A2DP_SINK = "0000110b-0000-1000-8000-00805f9b34fb"
HANDS_FREE = "0000111e-0000-1000-8000-00805f9b34fb"
A2DP_SOURCE = "0000110a-0000-1000-8000-00805f9b34fb"
OBEX_PUSH = "00001105-0000-1000-8000-00805f9b34fb"
EARBUDS = "F4:4E:FD:00:11:22"
HEADPHONES = "00:1B:66:AA:BB:CC"
PHONE = "3C:28:6D:12:34:56"
STATE_CHANGE_LIMIT_SECONDS = 1.0

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"""

pytestmark = pytest.mark.skipif(
    not Path("/usr/bin/dbus-daemon").exists(), reason="dbus-daemon is not installed")


@pytest.fixture
def system_bus(tmp_path: Path):
    """A private bus of type system; yields its address."""
    config = tmp_path / "system-bus.conf"
    config.write_text(BUS_CONFIG.format(socket=tmp_path / "system_bus_socket"))
    daemon = subprocess.Popen(["dbus-daemon", f"--config-file={config}", "--nofork",
                               "--print-address"], stdout=subprocess.PIPE, text=True)
    address = daemon.stdout.readline().strip()
    yield address
    daemon.terminate()
    daemon.wait(timeout=5)


@pytest.fixture
async def bluez(system_bus: str):
    """python-dbusmock's BlueZ on the private bus, with one adapter, driven over D-Bus."""
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": system_bus}
    mock = subprocess.Popen([sys.executable, "-m", "dbusmock", "--system", "--template",
                             "bluez5"], env=env, stdout=subprocess.DEVNULL)
    driver = await MessageBus(bus_address=system_bus).connect()
    control = BluezControl(driver, mock)
    await control.wait_until_up()
    await control.call("/org/bluez", "org.bluez.Mock", "AddAdapter", "ss", ["hci0", "edge"])
    yield control
    driver.disconnect()
    control.stop()


class BluezControl:
    """Plays the part of bluetoothd: adds devices, connects and disconnects them."""

    def __init__(self, bus: MessageBus, process: subprocess.Popen) -> None:
        self.bus, self.process = bus, process

    async def call(self, path: str, interface: str, member: str, signature: str = "",
                   body: list | None = None, destination: str = "org.bluez") -> list:
        reply = await self.bus.call(Message(destination=destination, path=path,
                                            interface=interface, member=member,
                                            signature=signature, body=body or []))
        assert reply.message_type == MessageType.METHOD_RETURN, reply.body
        return reply.body

    async def wait_until_up(self) -> None:
        for _ in range(200):
            (has_owner,) = await self.call("/org/freedesktop/DBus", "org.freedesktop.DBus",
                                           "NameHasOwner", "s", ["org.bluez"],
                                           destination="org.freedesktop.DBus")
            if has_owner:
                return
            await asyncio.sleep(0.025)
        raise TimeoutError("dbusmock bluez5 did not start")

    async def add_device(self, address: str, alias: str, uuids: list[str],
                         icon: str) -> str:
        (path,) = await self.call("/org/bluez", "org.bluez.Mock", "AddDevice", "sss",
                                  ["hci0", address, alias])
        await self.call(path, "org.freedesktop.DBus.Mock", "UpdateProperties", "sa{sv}",
                        ["org.bluez.Device1", {"UUIDs": Variant("as", uuids),
                                               "Icon": Variant("s", icon)}])
        return path

    async def connect(self, address: str) -> None:
        await self.call("/org/bluez", "org.bluez.Mock", "ConnectDevice", "ss", ["hci0", address])

    async def disconnect(self, address: str) -> None:
        await self.call("/org/bluez", "org.bluez.Mock", "DisconnectDevice", "ss",
                        ["hci0", address])

    async def remove(self, path: str) -> None:
        await self.call("/org/bluez/hci0", "org.bluez.Adapter1", "RemoveDevice", "o", [path])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=5)


async def no_wait(_seconds: float) -> None:
    await asyncio.sleep(0.01)


async def start(watcher: EarbudsWatcher, queue: asyncio.Queue) -> asyncio.Task:
    task = asyncio.create_task(watcher.run(queue))
    for _ in range(300):
        if watcher.watching:
            return task
        await asyncio.sleep(0.01)
    raise TimeoutError("watcher did not start watching")


async def stop(task: asyncio.Task) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def change(queue: asyncio.Queue, since: float) -> tuple[EarbudsState, float]:
    state = await asyncio.wait_for(queue.get(), timeout=3)
    return state, time.monotonic() - since


async def test_earbuds_connect_and_disconnect_within_a_second(bluez, system_bus) -> None:
    queue: asyncio.Queue = asyncio.Queue()
    seen: list[EarbudsState] = []
    watcher = EarbudsWatcher(system_bus, on_change=seen.append)
    task = await start(watcher, queue)
    try:
        await bluez.add_device(EARBUDS, "Jabra Elite 4", [A2DP_SINK, HANDS_FREE], "audio-headset")
        assert not watcher.has_earbuds

        began = time.monotonic()
        await bluez.connect(EARBUDS)
        state, took = await change(queue, began)
        assert state.has_earbuds and state.devices == ("Jabra Elite 4",)
        assert took < STATE_CHANGE_LIMIT_SECONDS and watcher.has_earbuds

        began = time.monotonic()
        await bluez.disconnect(EARBUDS)
        state, took = await change(queue, began)
        assert not state.has_earbuds and state.devices == ()
        assert took < STATE_CHANGE_LIMIT_SECONDS and not watcher.has_earbuds
        assert [s.has_earbuds for s in seen] == [True, False]
    finally:
        await stop(task)


async def test_a_phone_is_not_earbuds(bluez, system_bus) -> None:
    queue: asyncio.Queue = asyncio.Queue()
    watcher = EarbudsWatcher(system_bus)
    task = await start(watcher, queue)
    try:
        await bluez.add_device(PHONE, "Pixel 8", [A2DP_SOURCE, OBEX_PUSH], "phone")
        await bluez.connect(PHONE)
        await asyncio.sleep(0.5)
        assert queue.empty() and not watcher.has_earbuds
        # Headphones known only by their icon count; removing them counts too.
        path = await bluez.add_device(HEADPHONES, "Sony WH-1000XM4", [], "audio-headphones")
        await bluez.connect(HEADPHONES)
        state, _ = await change(queue, time.monotonic())
        assert state.devices == ("Sony WH-1000XM4",)
        await bluez.remove(path)
        state, _ = await change(queue, time.monotonic())
        assert not state.has_earbuds
    finally:
        await stop(task)


async def test_earbuds_already_connected_at_start_and_bluez_leaving(bluez, system_bus) -> None:
    await bluez.add_device(EARBUDS, "Jabra Elite 4", [A2DP_SINK], "audio-headset")
    await bluez.connect(EARBUDS)
    queue: asyncio.Queue = asyncio.Queue()
    watcher = EarbudsWatcher(system_bus, sleep=no_wait)
    task = await start(watcher, queue)
    try:
        assert (await asyncio.wait_for(queue.get(), 3)).has_earbuds
        bluez.stop()  # bluetoothd goes away
        state = await asyncio.wait_for(queue.get(), 3)
        assert not state.has_earbuds and not watcher.has_earbuds
    finally:
        await stop(task)


@pytest.mark.parametrize("bus", ["with a bus but no BlueZ", "without a system bus"])
async def test_bluez_absent_means_no_earbuds_logged_once(bus, system_bus, tmp_path,
                                                         caplog) -> None:
    caplog.set_level(logging.INFO, logger="edgecoach.sources.bluez")
    address = system_bus if bus.startswith("with") else f"unix:path={tmp_path}/no-socket"
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)
        await asyncio.sleep(0.01)

    queue: asyncio.Queue = asyncio.Queue()
    watcher = EarbudsWatcher(address, sleep=sleep)
    task = asyncio.create_task(watcher.run(queue))
    while len(delays) < 3:
        await asyncio.sleep(0.01)
    assert not task.done()
    await stop(task)
    assert not watcher.has_earbuds and queue.empty()
    absent = [r for r in caplog.records if "hasEarbuds=false" in r.getMessage()]
    assert len(absent) == 1 and absent[0].levelno == logging.WARNING


async def test_auto_detect_off_does_not_watch(caplog) -> None:
    caplog.set_level(logging.INFO, logger="edgecoach.sources.bluez")
    watcher = EarbudsWatcher("unix:path=/nonexistent", enabled=False)
    await asyncio.wait_for(watcher.run(asyncio.Queue()), 1)
    assert not watcher.has_earbuds
    assert "autoDetectEarbuds=false" in caplog.text


@pytest.mark.parametrize(("properties", "audio"), [
    ({"UUIDs": [A2DP_SINK.upper()]}, True),
    ({"UUIDs": ["00001108-0000-1000-8000-00805f9b34fb"]}, True),
    ({"UUIDs": ["0000110d-0000-1000-8000-00805f9b34fb"]}, True),
    ({"UUIDs": [], "Icon": "audio-card"}, True),
    ({"UUIDs": [A2DP_SOURCE], "Icon": "phone"}, False),
    ({"Icon": "input-keyboard"}, False),
    ({}, False),
])
def test_what_counts_as_an_audio_output(properties: dict, audio: bool) -> None:
    assert is_audio_output(properties) is audio
