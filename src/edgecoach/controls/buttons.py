"""Earbud media buttons (AVRCP) through python-evdev, as ButtonActions on the daemon's queue.

BlueZ turns the earbuds' AVRCP passthrough commands into key events on a uinput device
it names after the earbuds, usually with "(AVRCP)" in the name. The reader picks every
input device that has media keys and is not a keyboard (or has "AVRCP" in its name),
reads it with evdev's async_read_loop, and rescans every RESCAN_SECONDS so earbuds that
connect mid-workout are picked up. It does not grab the devices: the music player still
sees the keys.

evdev is optional: without it, or without a readable device, the reader logs once and
waits. Reading /dev/input/event* needs the `input` group.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import suppress
from typing import Any, Protocol

from edgecoach.controls.gestures import (
    DOUBLE_PRESS_SECONDS,
    EV_KEY,
    KEY_A,
    KEY_DOWN,
    KEY_GESTURES,
    MEDIA_KEYS,
    ButtonAction,
    GestureDecoder,
    validate_mapping,
)
from edgecoach.resilience import Sleep

log = logging.getLogger(__name__)

# Earbuds show up within seconds of connecting; scanning /dev/input is a few syscalls.
RESCAN_SECONDS = 5.0


class InputDeviceLike(Protocol):
    """The part of evdev.InputDevice the reader uses (tests pass a fake with real events)."""

    name: str

    def capabilities(self) -> Mapping[int, Iterable[Any]]: ...

    def async_read_loop(self) -> AsyncIterator[Any]: ...

    def close(self) -> None: ...


ListDevices = Callable[[], list[str]]
OpenDevice = Callable[[str], InputDeviceLike]


def is_earbud_controls(name: str, capabilities: Mapping[int, Iterable[Any]]) -> bool:
    """Media keys, and either "AVRCP" in the name or no letter keys (not a keyboard)."""
    keys = set(capabilities.get(EV_KEY, ()))
    return bool(keys & MEDIA_KEYS) and ("avrcp" in name.lower() or KEY_A not in keys)


def _evdev_backend() -> tuple[ListDevices, OpenDevice] | None:
    try:
        import evdev  # optional dependency (the `buttons` extra)
    except ImportError:
        return None

    def list_devices() -> list[str]:
        return [str(path) for path in evdev.list_devices()]

    def open_device(path: str) -> InputDeviceLike:
        return evdev.InputDevice(path)

    return list_devices, open_device


class ButtonReader:
    """Reads earbud buttons from every matching input device until cancelled.

    `mapping` updates DEFAULT_BUTTON_MAPPING (gesture -> action or None). `list_devices`
    and `open_device` default to evdev's; tests pass fakes with the same surface.
    """

    def __init__(self, mapping: Mapping[str, str | None] | None = None, *,
                 double_press_seconds: float = DOUBLE_PRESS_SECONDS,
                 rescan_seconds: float = RESCAN_SECONDS,
                 list_devices: ListDevices | None = None,
                 open_device: OpenDevice | None = None,
                 sleep: Sleep = asyncio.sleep) -> None:
        self.mapping = validate_mapping(mapping or {})
        self.decoder = GestureDecoder(double_press_seconds)
        self.rescan_seconds = rescan_seconds
        self.sleep = sleep
        self._backend = (list_devices, open_device) if list_devices and open_device else None
        self._reading: dict[str, asyncio.Task] = {}
        self._ignored: set[str] = set()
        self._said_none = False

    @property
    def devices(self) -> list[str]:
        """Paths of the devices being read now."""
        return sorted(self._reading)

    async def run(self, queue: asyncio.Queue) -> None:
        """Scan, read and rescan until cancelled; never raises for a missing device."""
        backend = self._backend or _evdev_backend()
        if backend is None:
            log.info("python-evdev is not installed; earbud buttons are off")
            await asyncio.Event().wait()
            return
        list_devices, open_device = backend
        try:
            while True:
                for path, device in await asyncio.to_thread(self._scan, list_devices,
                                                             open_device):
                    log.info("earbud buttons: reading %s (%s)", device.name, path)
                    self._reading[path] = asyncio.create_task(
                        self._read(path, device, queue), name=f"buttons {path}")
                if not self._reading and not self._said_none:
                    log.info("no earbud button device yet; looking again every %g s",
                             self.rescan_seconds)
                    self._said_none = True
                await self.sleep(self.rescan_seconds)
        finally:
            tasks = list(self._reading.values())
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def _scan(self, list_devices: ListDevices,
              open_device: OpenDevice) -> list[tuple[str, InputDeviceLike]]:
        """New matching devices (blocking: opens device nodes; runs in a worker thread)."""
        try:
            paths = list_devices()
        except OSError as error:
            log.warning("cannot list input devices: %s", error)
            return []
        # A path that disappeared may come back as another device.
        self._ignored &= set(paths)
        found = []
        for path in paths:
            if path in self._reading or path in self._ignored:
                continue
            self._ignored.add(path)
            try:
                device = open_device(path)
                matches = is_earbud_controls(device.name, device.capabilities())
            except OSError as error:
                log.info("cannot open %s: %s (is the daemon in the input group?)", path, error)
                continue
            if matches:
                self._ignored.discard(path)
                found.append((path, device))
            else:
                device.close()
        return found

    async def _read(self, path: str, device: InputDeviceLike, queue: asyncio.Queue) -> None:
        try:
            async for event in device.async_read_loop():
                if event.type != EV_KEY or event.value != KEY_DOWN:
                    continue
                gesture = KEY_GESTURES.get(event.code)
                if gesture is None:
                    continue
                self._emit(self.decoder.press(gesture, event.timestamp()), device.name, queue)
                pending = self.decoder.pending
                if pending is not None and self.mapping.get("play-pause"):
                    asyncio.get_running_loop().call_later(
                        self.decoder.window, self._expire, pending, device.name, queue)
        except OSError as error:  # ENODEV when the earbuds disconnect
            log.info("earbud buttons: %s gone (%s)", device.name, error)
        finally:
            self._reading.pop(path, None)
            with suppress(OSError):
                device.close()

    def _expire(self, pending: float, device: str, queue: asyncio.Queue) -> None:
        self._emit(self.decoder.expire(pending), device, queue)

    def _emit(self, gestures: list[tuple[str, float]], device: str,
              queue: asyncio.Queue) -> None:
        for gesture, timestamp in gestures:
            action = self.mapping.get(gesture)
            if action is None:
                continue
            log.debug("button %s -> %s", gesture, action)
            try:
                queue.put_nowait(ButtonAction(action, gesture, timestamp, device))
            except asyncio.QueueFull:
                log.warning("queue full; button action %s dropped", action)
