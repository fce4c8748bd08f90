"""Earbud buttons: real evdev events through a fake InputDevice, and a real uinput device."""

import asyncio
import contextlib
import errno
import logging
import os
import sys

import evdev
import pytest
from evdev import InputEvent, ecodes

from edgecoach.controls import (
    DEFAULT_BUTTON_MAPPING,
    ButtonAction,
    ButtonReader,
    GestureDecoder,
    gestures,
    is_earbud_controls,
    validate_mapping,
)
from edgecoach.errors import ConfigError

# What BlueZ registers on its AVRCP uinput device (a subset of profiles/audio/avctp.c).
AVRCP_KEYS = [ecodes.KEY_PLAYCD, ecodes.KEY_PAUSECD, ecodes.KEY_STOPCD, ecodes.KEY_NEXTSONG,
              ecodes.KEY_PREVIOUSSONG, ecodes.KEY_PLAYPAUSE, ecodes.KEY_VOLUMEUP,
              ecodes.KEY_VOLUMEDOWN, ecodes.KEY_REWIND, ecodes.KEY_FASTFORWARD]
KEYBOARD_KEYS = [*range(ecodes.KEY_ESC, ecodes.KEY_KPDOT + 1), ecodes.KEY_PLAYPAUSE,
                 ecodes.KEY_NEXTSONG]


def key(code: int, t: float, value: int) -> list[InputEvent]:
    """One key event and its SYN_REPORT, as the kernel delivers them."""
    sec, usec = int(t), round((t - int(t)) * 1_000_000)
    return [InputEvent(sec, usec, ecodes.EV_KEY, code, value),
            InputEvent(sec, usec, ecodes.EV_SYN, ecodes.SYN_REPORT, 0)]


def press(code: int, t: float, held: int = 0) -> list[InputEvent]:
    """Down, `held` auto-repeats, up."""
    events = key(code, t, 1)
    for index in range(held):
        events += key(code, t + 0.25 + 0.033 * index, 2)
    return events + key(code, t + 0.1 + 0.25 * bool(held), 0)


class FakeInputDevice:
    """The evdev.InputDevice surface the reader uses, replaying recorded events."""

    def __init__(self, path: str, name: str, keys: list[int], events: list[InputEvent],
                 gone_at_end: bool = False) -> None:
        self.path, self.name, self.keys = path, name, keys
        self.events = events
        self.gone_at_end = gone_at_end
        self.closed = False

    def capabilities(self) -> dict[int, list[int]]:
        return {ecodes.EV_SYN: [ecodes.SYN_REPORT], ecodes.EV_KEY: self.keys}

    async def async_read_loop(self):
        for event in self.events:
            yield event
            await asyncio.sleep(0)
        if self.gone_at_end:
            raise OSError(errno.ENODEV, "No such device")
        await asyncio.Event().wait()  # a connected device that is not pressed

    def close(self) -> None:
        self.closed = True


class FakeEvdev:
    """list_devices / InputDevice for the reader: which nodes exist, and when.

    A path may hold several devices: each open hands out the next (a reconnection).
    """

    def __init__(self, devices: list[FakeInputDevice], appear_after_scans: int = 0) -> None:
        self.devices: dict[str, list[FakeInputDevice]] = {}
        for device in devices:
            self.devices.setdefault(device.path, []).append(device)
        self.scans = 0
        self.appear_after = appear_after_scans
        self.opened: list[str] = []

    def list_devices(self) -> list[str]:
        self.scans += 1
        return list(self.devices) if self.scans > self.appear_after else []

    def open(self, path: str) -> FakeInputDevice:
        self.opened.append(path)
        queue = self.devices[path]
        device = queue.pop(0) if len(queue) > 1 else queue[0]
        if device.name == "locked":
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return device


async def collect(reader: ButtonReader, count: int, timeout: float = 3.0,
                  settle: float = 0.05) -> list[ButtonAction]:
    """Run the reader until `count` actions arrived (and `settle` s more), then cancel it."""
    queue: asyncio.Queue = asyncio.Queue()
    task = asyncio.create_task(reader.run(queue))
    actions = []
    try:
        for _ in range(count):
            actions.append(await asyncio.wait_for(queue.get(), timeout))
        await asyncio.sleep(settle)
        while not queue.empty():
            actions.append(queue.get_nowait())
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return actions


def test_key_codes_match_evdev():
    for name in ("EV_KEY", "KEY_A", "KEY_NEXTSONG", "KEY_PLAYPAUSE", "KEY_PREVIOUSSONG",
                 "KEY_PLAYCD", "KEY_PAUSECD"):
        assert getattr(gestures, name) == getattr(ecodes, name), name


def test_earbud_devices_are_told_from_keyboards():
    assert is_earbud_controls("WF-1000XM4 (AVRCP)", {ecodes.EV_KEY: AVRCP_KEYS})
    assert is_earbud_controls("Headset Jack", {ecodes.EV_KEY: [ecodes.KEY_PLAYPAUSE]})
    assert not is_earbud_controls("AT Translated Keyboard", {ecodes.EV_KEY: KEYBOARD_KEYS})
    assert is_earbud_controls("Combo AVRCP", {ecodes.EV_KEY: KEYBOARD_KEYS})
    assert not is_earbud_controls("Power Button", {ecodes.EV_KEY: [ecodes.KEY_POWER]})
    assert not is_earbud_controls("Mouse (AVRCP)", {ecodes.EV_REL: [0, 1]})


def test_gesture_decoder_tells_single_from_double_presses():
    decoder = GestureDecoder(0.6)
    assert decoder.press("play-pause", 10.0) == []
    assert decoder.press("play-pause", 10.5) == [("play-pause-double", 10.5)]
    assert decoder.press("play-pause", 20.0) == []
    assert decoder.press("play-pause", 20.7) == [("play-pause", 20.0)]  # too slow: two singles
    assert decoder.press("next", 20.9) == [("play-pause", 20.7), ("next", 20.9)]
    assert decoder.press("play-pause", 30.0) == []
    assert decoder.expire(29.0) == []                                    # a stale timer
    assert decoder.expire(30.0) == [("play-pause", 30.0)]
    assert decoder.press("play-pause", 40.0) == []
    assert decoder.press("play-pause", 40.3) == [("play-pause-double", 40.3)]
    assert decoder.press("play-pause", 40.5) == []                       # a third starts anew


def test_mapping_is_validated():
    assert validate_mapping({}) == DEFAULT_BUTTON_MAPPING
    assert validate_mapping({"play-pause": "pause"})["play-pause"] == "pause"
    with pytest.raises(ConfigError, match="gesture 'triple'"):
        validate_mapping({"triple": "skip"})
    with pytest.raises(ConfigError, match="buttons.next: unknown action 'explode'"):
        validate_mapping({"next": "explode"})


async def test_recorded_presses_become_actions():
    events = (press(ecodes.KEY_NEXTSONG, 10.0)
              + press(ecodes.KEY_PREVIOUSSONG, 12.0)
              + press(ecodes.KEY_PLAYCD, 14.0) + press(ecodes.KEY_PAUSECD, 14.4)  # double
              + press(ecodes.KEY_NEXTSONG, 20.0, held=8)   # held: auto-repeat is one press
              + [InputEvent(21, 0, ecodes.EV_KEY, ecodes.KEY_VOLUMEUP, 1)]
              + press(ecodes.KEY_PLAYPAUSE, 30.0) + press(ecodes.KEY_PLAYPAUSE, 31.0))  # singles
    buds = FakeInputDevice("/dev/input/event7", "Buds (AVRCP)", AVRCP_KEYS, events)
    keyboard = FakeInputDevice("/dev/input/event2", "Keyboard", KEYBOARD_KEYS,
                               press(ecodes.KEY_NEXTSONG, 11.0))
    fake = FakeEvdev([keyboard, buds])
    reader = ButtonReader(list_devices=fake.list_devices, open_device=fake.open)
    actions = await collect(reader, 4)
    assert [(a.action, a.gesture, a.timestamp, a.device) for a in actions] == [
        ("skip", "next", 10.0, "Buds (AVRCP)"),
        ("repeat", "previous", 12.0, "Buds (AVRCP)"),
        ("helpful", "play-pause-double", 14.4, "Buds (AVRCP)"),
        ("skip", "next", 20.0, "Buds (AVRCP)"),
    ]
    assert keyboard.closed and buds.closed  # the keyboard at once, the buds on cancel


async def test_single_play_pause_when_mapped():
    events = (press(ecodes.KEY_PLAYPAUSE, 5.0)
              + press(ecodes.KEY_PLAYPAUSE, 8.0) + press(ecodes.KEY_PLAYPAUSE, 8.03))
    fake = FakeEvdev([FakeInputDevice("/dev/input/event9", "Buds (AVRCP)", AVRCP_KEYS, events)])
    reader = ButtonReader({"play-pause": "pause"}, double_press_seconds=0.05,
                          list_devices=fake.list_devices, open_device=fake.open)
    actions = await collect(reader, 2, settle=0.2)
    assert [(a.action, a.timestamp) for a in actions] == [("pause", 5.0), ("helpful", 8.03)]


async def test_earbuds_that_connect_later_are_picked_up(caplog):
    caplog.set_level(logging.INFO, logger="edgecoach.controls.buttons")
    buds = FakeInputDevice("/dev/input/event12", "Late Buds (AVRCP)", AVRCP_KEYS,
                           press(ecodes.KEY_NEXTSONG, 100.0))
    locked = FakeInputDevice("/dev/input/event3", "locked", AVRCP_KEYS, [])
    fake = FakeEvdev([locked, buds], appear_after_scans=3)
    reader = ButtonReader(rescan_seconds=0.01, list_devices=fake.list_devices,
                          open_device=fake.open)
    actions = await collect(reader, 1)
    assert [a.action for a in actions] == ["skip"]
    assert fake.scans >= 4
    assert caplog.text.count("no earbud button device yet") == 1
    assert fake.opened.count("/dev/input/event3") == 1  # unreadable: logged, not retried
    assert "input group" in caplog.text


async def test_a_disconnected_device_is_dropped_and_found_again(caplog):
    caplog.set_level(logging.INFO, logger="edgecoach.controls.buttons")
    path = "/dev/input/event5"
    first = FakeInputDevice(path, "Buds (AVRCP)", AVRCP_KEYS,
                            press(ecodes.KEY_PREVIOUSSONG, 1.0), gone_at_end=True)
    again = FakeInputDevice(path, "Buds (AVRCP)", AVRCP_KEYS, press(ecodes.KEY_NEXTSONG, 9.0))
    fake = FakeEvdev([first, again])
    reader = ButtonReader(rescan_seconds=0.01, list_devices=fake.list_devices,
                          open_device=fake.open)
    actions = await collect(reader, 2)  # read, gone, reconnected, read again
    assert [(a.action, a.timestamp) for a in actions] == [("repeat", 1.0), ("skip", 9.0)]
    assert "Buds (AVRCP) gone" in caplog.text
    assert first.closed and fake.opened.count(path) == 2


async def test_without_evdev_the_reader_logs_once_and_waits(monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="edgecoach.controls.buttons")
    monkeypatch.setitem(sys.modules, "evdev", None)  # import evdev raises ImportError
    task = asyncio.create_task(ButtonReader().run(asyncio.Queue()))
    await asyncio.sleep(0.05)
    assert not task.done()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert caplog.text.count("python-evdev is not installed") == 1


def _uinput_unusable() -> str | None:
    if not os.path.exists("/dev/uinput"):
        return "/dev/uinput does not exist (no uinput module on this machine)"
    if not os.access("/dev/uinput", os.W_OK):
        return "/dev/uinput is not writable by this user"
    return None


@pytest.mark.skipif(_uinput_unusable() is not None, reason=_uinput_unusable() or "")
async def test_real_uinput_device_through_evdev():
    capabilities = {ecodes.EV_KEY: AVRCP_KEYS}
    with evdev.UInput(capabilities, name="EdgeCoach Test Buds (AVRCP)") as device:
        await asyncio.sleep(0.3)  # udev creates the node
        queue: asyncio.Queue = asyncio.Queue()
        task = asyncio.create_task(ButtonReader(rescan_seconds=0.1).run(queue))
        try:
            await asyncio.sleep(0.5)
            for code in (ecodes.KEY_NEXTSONG, ecodes.KEY_PLAYPAUSE, ecodes.KEY_PLAYPAUSE):
                device.write(ecodes.EV_KEY, code, 1)
                device.syn()
                device.write(ecodes.EV_KEY, code, 0)
                device.syn()
                await asyncio.sleep(0.05)
            first = await asyncio.wait_for(queue.get(), 3)
            second = await asyncio.wait_for(queue.get(), 3)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    assert (first.action, second.action) == ("skip", "helpful")
    assert first.device == "EdgeCoach Test Buds (AVRCP)"
