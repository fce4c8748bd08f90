"""BLE heart rate: the 0x2A37 parser, and the monitor driven through bleak's own API.

The radio is replaced by bleak backend classes (BleakScanner/BleakClient `backend=`)
that deliver real advertisement data and real notification bytes.
"""

import asyncio
import logging
import struct
from dataclasses import dataclass, field
from typing import Any

import pytest
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakError
from hypothesis import given
from hypothesis import strategies as st

from edgecoach.sources import (
    HeartRateMonitor,
    HeartRateSample,
    MalformedMeasurement,
    StrapState,
    parse_heart_rate_measurement,
)
from edgecoach.sources.gatt import (
    BATTERY_LEVEL,
    BATTERY_SERVICE,
    HEART_RATE_MEASUREMENT,
    HEART_RATE_SERVICE,
)

# --- the parser -----------------------------------------------------------------------


@pytest.mark.parametrize(("packet", "bpm", "contact", "energy", "rr"), [
    (b"\x00\x48", 72, None, None, ()),                       # uint8, nothing else
    (b"\x01\xb4\x00", 180, None, None, ()),                  # uint16 little-endian
    (b"\x06\x50", 80, True, None, ()),                       # contact supported, detected
    (b"\x04\x50", 80, False, None, ()),                      # supported, no contact
    (b"\x02\x50", 80, None, None, ()),                       # "detected" bit without support
    (b"\x08\x50\x10\x27", 80, None, 10000, ()),              # energy expended, kJ
    (b"\x10\x3c\x00\x04", 60, None, None, (1.0,)),           # one RR of 1024/1024 s
    (b"\x16\x4c\x1f\x03", 76, True, None, (799 / 1024,)),    # Polar H10 notification
    (b"\x10\x4b\x20\x03\x40\x03", 75, None, None, (800 / 1024, 832 / 1024)),
    (b"\x1f\x96\x00\xe8\x03\x00\x02", 150, True, 1000, (0.5,)),  # every field
    (b"\xe0\x48", 72, None, None, ()),                       # reserved bits ignored
    (b"\x00\x48\x99", 72, None, None, ()),                   # trailing octet ignored
])
def test_parser_follows_the_specification(packet, bpm, contact, energy, rr) -> None:
    measurement = parse_heart_rate_measurement(packet)
    assert measurement.bpm == bpm
    assert measurement.contact is contact
    assert measurement.energy_expended_kj == energy
    assert measurement.rr_intervals == pytest.approx(rr)


@pytest.mark.parametrize("packet", [
    b"", b"\x01\x50", b"\x08\x50\x01", b"\x10\x50", b"\x10\x50\x00", b"\x18\x50\x01\x00",
    b"\x19\x50",
])
def test_malformed_packets_are_refused(packet: bytes) -> None:
    with pytest.raises(MalformedMeasurement):
        parse_heart_rate_measurement(packet)


@given(st.binary(max_size=64))
def test_no_byte_string_raises_anything_but_malformed(data: bytes) -> None:
    try:
        measurement = parse_heart_rate_measurement(data)
    except MalformedMeasurement:
        return
    assert 0 <= measurement.bpm <= 0xFFFF
    assert all(0 <= rr < 64 for rr in measurement.rr_intervals)


@given(wide=st.booleans(), bpm=st.integers(0, 255), contact=st.sampled_from([None, True, False]),
       energy=st.none() | st.integers(0, 0xFFFF),
       rr=st.lists(st.integers(0, 0xFFFF), max_size=9))
def test_any_well_formed_packet_round_trips(wide, bpm, contact, energy, rr) -> None:
    flags = (0x01 if wide else 0) | (0x08 if energy is not None else 0) | (0x10 if rr else 0)
    if contact is not None:
        flags |= 0x04 | (0x02 if contact else 0)
    packet = bytes([flags]) + struct.pack("<H" if wide else "<B", bpm)
    if energy is not None:
        packet += struct.pack("<H", energy)
    packet += b"".join(struct.pack("<H", value) for value in rr)
    measurement = parse_heart_rate_measurement(packet)
    assert (measurement.bpm, measurement.contact, measurement.energy_expended_kj) == (
        bpm, contact, energy)
    assert measurement.rr_intervals == tuple(value / 1024 for value in rr)


# --- a radio behind bleak's backend interface ----------------------------------------------

STRAP = "A0:9E:1A:12:34:56"
SECOND_STRAP = "C8:FD:19:AB:CD:EF"
EARBUDS = "F4:4E:FD:00:11:22"


def advertisement(name: str, uuids: list[str], manufacturer: dict[int, bytes]) -> AdvertisementData:
    return AdvertisementData(local_name=name, manufacturer_data=manufacturer, service_data={},
                             service_uuids=uuids, tx_power=None, rssi=-61, platform_data=())


# A Polar H10 and a Wahoo TICKR advertise the Heart Rate service; earbuds do not.
POLAR = advertisement("Polar H10 12345678", [HEART_RATE_SERVICE],
                      {0x006B: bytes.fromhex("3f000000")})
TICKR = advertisement("TICKR 4A2B", [HEART_RATE_SERVICE, BATTERY_SERVICE], {})
BUDS = advertisement("Galaxy Buds2", ["0000110b-0000-1000-8000-00805f9b34fb"],
                     {0x0075: bytes.fromhex("0201")})


@dataclass
class Radio:
    """What the fake adapter sees: who advertises, the strap's battery, the connections."""

    advertising: dict[str, AdvertisementData] = field(default_factory=dict)
    battery: int = 87
    refuse_connects: int = 0
    clients: list["FakeClient"] = field(default_factory=list)
    connected: asyncio.Event = field(default_factory=asyncio.Event)


class FakeScanner(BaseBleakScanner):
    radio: Radio

    def __init__(self, detection_callback, service_uuids, scanning_mode="active",
                 **kwargs: Any) -> None:
        super().__init__(detection_callback, service_uuids)
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        self.seen_devices = {}
        self._task = asyncio.get_running_loop().create_task(self._advertise())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()

    async def _advertise(self) -> None:
        while True:
            await asyncio.sleep(0.005)
            for address, data in list(self.radio.advertising.items()):
                if self.is_allowed_uuid(data.service_uuids):
                    device = self.create_or_update_device(address, address, data.local_name,
                                                          None, data)
                    self.call_detection_callbacks(device, data)


class FakeClient(BaseBleakClient):
    radio: Radio

    def __init__(self, address_or_ble_device, **kwargs: Any) -> None:
        super().__init__(address_or_ble_device,
                         disconnected_callback=kwargs["disconnected_callback"],
                         timeout=kwargs["timeout"])
        self._connected = False
        self._notify: dict[str, Any] = {}

    @property
    def mtu_size(self) -> int:
        return 23

    @property
    def is_connected(self) -> bool:
        return self._connected

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        if self.radio.refuse_connects:
            self.radio.refuse_connects -= 1
            raise BleakError("le-connection-abort-by-local")
        self._connected = True
        self.services = gatt_table(self.address == STRAP)
        self.radio.clients.append(self)

    async def disconnect(self) -> None:
        self._connected = False

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        pass

    async def unpair(self) -> None:
        pass

    async def read_gatt_char(self, characteristic, **kwargs: Any) -> bytearray:
        assert characteristic.uuid == BATTERY_LEVEL
        return bytearray([self.radio.battery])

    async def read_gatt_descriptor(self, descriptor, **kwargs: Any) -> bytearray:
        raise BleakError("no descriptors here")

    async def write_gatt_char(self, characteristic, data, response: bool) -> None:
        raise BleakError("read-only strap")

    async def write_gatt_descriptor(self, descriptor, data) -> None:
        raise BleakError("read-only strap")

    async def start_notify(self, characteristic, callback, **kwargs: Any) -> None:
        self._notify[characteristic.uuid] = callback
        self.radio.connected.set()

    async def stop_notify(self, characteristic) -> None:
        self._notify.pop(characteristic.uuid, None)

    # What the strap does on its own:
    def send(self, packet: bytes) -> None:
        self._notify[HEART_RATE_MEASUREMENT](bytearray(packet))

    def drop_link(self) -> None:
        self._connected = False
        self._disconnected_callback()


def gatt_table(with_battery: bool) -> BleakGATTServiceCollection:
    table = BleakGATTServiceCollection()
    services = [(1, HEART_RATE_SERVICE, HEART_RATE_MEASUREMENT, ["notify"])]
    if with_battery:
        services.append((10, BATTERY_SERVICE, BATTERY_LEVEL, ["read", "notify"]))
    for handle, service_uuid, char_uuid, properties in services:
        service = BleakGATTService(None, handle, service_uuid)
        table.add_service(service)
        table.add_characteristic(BleakGATTCharacteristic(
            None, handle + 1, char_uuid, properties, lambda: 20, service))
    return table


@pytest.fixture
def radio() -> Radio:
    return Radio(advertising={EARBUDS: BUDS, STRAP: POLAR})


@pytest.fixture
def delays() -> list[float]:
    return []


@pytest.fixture
def monitor(radio: Radio, delays: list[float]):
    async def fake_sleep(seconds: float) -> None:
        delays.append(seconds)
        await asyncio.sleep(0)

    def make(address: str | None = None) -> HeartRateMonitor:
        return HeartRateMonitor(
            address,
            scanner_backend=type("Scanner", (FakeScanner,), {"radio": radio}),
            client_backend=type("Client", (FakeClient,), {"radio": radio}),
            sleep=fake_sleep, scan_timeout=0.5, clock=lambda: 1_750_000_000.0)
    return make


async def next_item(queue: asyncio.Queue, kind: type) -> Any:
    item = await asyncio.wait_for(queue.get(), timeout=3)
    assert isinstance(item, kind), item
    return item


async def running(monitor: HeartRateMonitor, queue: asyncio.Queue):
    return asyncio.create_task(monitor.run(queue))


async def stop(task: asyncio.Task) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


# --- the monitor ---------------------------------------------------------------------------

REAL_PACKETS = [b"\x16\x48\x3d\x03", b"\x16\x4c\x1f\x03\x2a\x03", b"\x06\x9c", b"\x01\xa0\x00"]


async def test_streams_samples_drops_and_reconnects(monitor, radio, delays, caplog) -> None:
    caplog.set_level(logging.INFO, logger="edgecoach.sources.heart_rate")
    queue: asyncio.Queue = asyncio.Queue()
    hrm = monitor()
    task = await running(hrm, queue)
    try:
        state = await next_item(queue, StrapState)
        assert (state.connected, state.address, state.battery_percent) == (True, STRAP, 87)
        strap = radio.clients[-1]
        for packet in REAL_PACKETS:
            strap.send(packet)
        samples = [await next_item(queue, HeartRateSample) for _ in REAL_PACKETS]
        assert [s.bpm for s in samples] == [72, 76, 156, 160]
        assert samples[1].rr_intervals == pytest.approx((799 / 1024, 810 / 1024))
        assert [s.contact for s in samples] == [True, True, True, None]
        assert all(s.source == "ble" for s in samples)

        strap.drop_link()
        lost = await next_item(queue, StrapState)
        assert (lost.connected, lost.address) == (False, STRAP)
        back = await next_item(queue, StrapState)
        assert back.connected and len(radio.clients) == 2 and radio.clients[1] is not strap
        assert len(delays) == 1
        radio.clients[1].send(b"\x00\x41")
        assert (await next_item(queue, HeartRateSample)).bpm == 65
    finally:
        await stop(task)
    messages = [r.getMessage() for r in caplog.records]
    assert sum(m.endswith("connected, battery 87%") for m in messages) == 2
    assert sum("lost" in m for m in messages) == 1
    assert messages[-1].endswith("disconnected (stopping)")
    assert queue.empty()  # stopping is not a lost strap: no state change queued


async def test_malformed_and_implausible_packets_are_counted_and_skipped(monitor, radio) -> None:
    queue: asyncio.Queue = asyncio.Queue()
    hrm = monitor()
    task = await running(hrm, queue)
    try:
        await next_item(queue, StrapState)
        for packet in (b"", b"\x01\x50", b"\x10\x50\x00", b"\x06\x00", b"\x00\x48"):
            radio.clients[-1].send(packet)
        assert (await next_item(queue, HeartRateSample)).bpm == 72
        assert queue.empty()
        assert (hrm.malformed, hrm.implausible, hrm.samples) == (3, 1, 1)
    finally:
        await stop(task)


async def test_configured_address_picks_that_strap(monitor, radio) -> None:
    radio.advertising[SECOND_STRAP] = TICKR
    queue: asyncio.Queue = asyncio.Queue()
    task = await running(monitor(SECOND_STRAP.lower()), queue)
    try:
        state = await next_item(queue, StrapState)
        assert state.address == SECOND_STRAP and state.name == "TICKR 4A2B"
        # The TICKR's table has no Battery service in this radio: no battery, no error.
        assert state.battery_percent is None
    finally:
        await stop(task)


async def test_failed_connects_back_off_and_log_once(monitor, radio, delays, caplog) -> None:
    caplog.set_level(logging.INFO, logger="edgecoach.sources.heart_rate")
    radio.refuse_connects = 3
    queue: asyncio.Queue = asyncio.Queue()
    hrm = monitor()
    task = await running(hrm, queue)
    try:
        assert (await next_item(queue, StrapState)).connected
    finally:
        await stop(task)
    assert len(delays) == 3
    low, high = hrm.backoff.bounds(2)
    assert low <= delays[2] <= high and delays[2] > hrm.backoff.bounds(0)[1]
    unavailable = [r for r in caplog.records if "unavailable" in r.getMessage()]
    assert len(unavailable) == 1 and unavailable[0].levelno == logging.WARNING


async def test_no_strap_in_range_keeps_looking_without_crashing(monitor, radio, delays) -> None:
    radio.advertising = {EARBUDS: BUDS}
    queue: asyncio.Queue = asyncio.Queue()
    hrm = monitor()
    hrm.scan_timeout = 0.05
    task = await running(hrm, queue)
    await asyncio.sleep(0.3)
    assert not task.done() and queue.empty() and len(delays) >= 2
    radio.advertising[STRAP] = POLAR
    try:
        assert (await next_item(queue, StrapState)).connected
    finally:
        await stop(task)
