"""A BLE heart-rate strap through bleak: find, connect, subscribe, reconnect with backoff.

The monitor puts `HeartRateSample`s and `StrapState` changes (connected / lost) on the
daemon's queue. Tests pass bleak backend classes (`scanner_backend`, `client_backend`);
the code path is the same as with a real adapter.
"""

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from bleak import BleakClient, BleakScanner
from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.exc import BleakError

from edgecoach.contract.vocabulary import HEART_RATE_MAX, HEART_RATE_MIN
from edgecoach.resilience import Backoff, Sleep, wait
from edgecoach.sources.gatt import (
    BATTERY_LEVEL,
    HEART_RATE_MEASUREMENT,
    HEART_RATE_SERVICE,
    MalformedMeasurement,
    parse_heart_rate_measurement,
)
from edgecoach.sources.items import HeartRateSample, StrapState

log = logging.getLogger(__name__)

SCAN_TIMEOUT_SECONDS = 10.0
CONNECT_TIMEOUT_SECONDS = 20.0
# A strap that drops off usually comes back within seconds; do not wait minutes.
RECONNECT_MAX_DELAY_SECONDS = 30.0


class HeartRateMonitor:
    """Keeps one heart-rate strap connected and streams its readings onto a queue.

    `address` (settings.sources.ble_address) picks one strap; otherwise the first
    device advertising the Heart Rate service (0x180D) is used.
    """

    def __init__(self, address: str | None = None, *,
                 scanner_backend: type[BaseBleakScanner] | None = None,
                 client_backend: type[BaseBleakClient] | None = None,
                 backoff: Backoff | None = None, sleep: Sleep = asyncio.sleep,
                 clock: Callable[[], float] = time.time,
                 scan_timeout: float = SCAN_TIMEOUT_SECONDS,
                 connect_timeout: float = CONNECT_TIMEOUT_SECONDS) -> None:
        self.address = address
        self.scanner_backend = scanner_backend
        self.client_backend = client_backend
        self.backoff = backoff or Backoff(maximum=RECONNECT_MAX_DELAY_SECONDS)
        self.sleep = sleep
        self.clock = clock
        self.scan_timeout = scan_timeout
        self.connect_timeout = connect_timeout
        self.connected = False
        self.samples = 0
        self.malformed = 0
        self.implausible = 0
        self.dropped = 0
        self._status: str | None = None
        self._queue: asyncio.Queue | None = None

    async def run(self, queue: asyncio.Queue) -> None:
        """Connect and reconnect until cancelled; never raises for radio trouble."""
        self._queue = queue
        while True:
            try:
                await self._session()
            except (BleakError, OSError, TimeoutError) as error:
                self._set_status("unavailable", "heart-rate strap unavailable (no Bluetooth "
                                 f"adapter or BlueZ?): {type(error).__name__}: {error}")
            await wait(self.backoff, self.sleep)

    async def _session(self) -> None:
        """Find the strap, stay connected until the link drops."""
        device = await self._find()
        if device is None:
            self._set_status("searching", "no heart-rate strap in range; still looking")
            return
        lost = asyncio.Event()
        client = BleakClient(device, disconnected_callback=lambda _: lost.set(),
                             timeout=self.connect_timeout, backend=self.client_backend)
        try:
            async with client:
                await client.start_notify(HEART_RATE_MEASUREMENT, self._on_notification)
                battery = await self._battery(client)
                self.backoff.reset()
                self._link(True, device, battery)
                await lost.wait()
        except asyncio.CancelledError:
            # Stopping on purpose is not a lost strap: nothing to tell the athlete.
            if self.connected:
                self.connected = False
                log.info("heart-rate strap %s disconnected (stopping)", device.address)
            raise
        finally:
            if self.connected:
                self._link(False, device, None)

    async def _find(self) -> BLEDevice | None:
        wanted = self.address.lower() if self.address else None

        def matches(device: BLEDevice, advertisement: AdvertisementData) -> bool:
            if wanted:
                return device.address.lower() == wanted
            return HEART_RATE_SERVICE in (u.lower() for u in advertisement.service_uuids)

        options: dict[str, Any] = {}
        if self.scanner_backend is not None:
            options["backend"] = self.scanner_backend
        if not wanted:
            options["service_uuids"] = [HEART_RATE_SERVICE]
        return await BleakScanner.find_device_by_filter(
            matches, timeout=self.scan_timeout, **options)

    async def _battery(self, client: BleakClient) -> int | None:
        """Battery Level (0x2A19) in percent when the strap has it."""
        try:
            if client.services.get_characteristic(BATTERY_LEVEL) is None:
                return None
            data = await client.read_gatt_char(BATTERY_LEVEL)
        except BleakError as error:
            log.debug("battery level unreadable: %s", error)
            return None
        return data[0] if data and data[0] <= 100 else None

    def _on_notification(self, _characteristic: object, data: bytearray) -> None:
        try:
            measurement = parse_heart_rate_measurement(data)
        except MalformedMeasurement as error:
            self.malformed += 1
            log.debug("skipped heart-rate packet %s: %s", bytes(data).hex(), error)
            return
        if not HEART_RATE_MIN <= measurement.bpm <= HEART_RATE_MAX:
            # Straps send 0 bpm while they look for skin contact.
            self.implausible += 1
            return
        self.samples += 1
        self._put(HeartRateSample(bpm=measurement.bpm, timestamp=self.clock(),
                                  rr_intervals=measurement.rr_intervals,
                                  contact=measurement.contact, source="ble"))

    def _link(self, connected: bool, device: BLEDevice, battery: int | None) -> None:
        self.connected = connected
        name = device.name or device.address
        if connected:
            level = f", battery {battery}%" if battery is not None else ""
            self._set_status("connected", f"heart-rate strap {name} connected{level}")
        else:
            self._set_status("lost", f"heart-rate strap {name} lost; reconnecting")
        self._put(StrapState(connected=connected, address=device.address, name=device.name,
                             timestamp=self.clock(), battery_percent=battery))

    def _set_status(self, status: str, message: str) -> None:
        """One log line per change of state, not per retry."""
        if status != self._status:
            self._status = status
            (log.warning if status in ("lost", "unavailable") else log.info)(message)

    def _put(self, item: HeartRateSample | StrapState) -> None:
        if self._queue is None:
            return
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self.dropped += 1
