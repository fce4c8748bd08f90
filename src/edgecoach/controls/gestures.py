"""Earbud button presses to gestures to actions; pure logic, no evdev needed.

Gestures: "next", "previous", "play-pause" (one press) and "play-pause-double" (two
presses within DOUBLE_PRESS_SECONDS). The mapping from gestures to actions comes from
configuration; DEFAULT_BUTTON_MAPPING is documented in docs/coaching-manners.md.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from edgecoach.errors import ConfigError

# Linux input-event codes (include/uapi/linux/input-event-codes.h, a stable kernel ABI),
# so this module needs no evdev; a test checks them against evdev.ecodes.
EV_KEY = 1
KEY_A = 30
KEY_NEXTSONG = 163
KEY_PLAYPAUSE = 164
KEY_PREVIOUSSONG = 165
KEY_PLAYCD = 200
KEY_PAUSECD = 201
# evdev key values: 1 = pressed; 0 (released) and 2 (auto-repeat while held) are ignored.
KEY_DOWN = 1

# Some earbuds send KEY_PLAYCD and KEY_PAUSECD in turn instead of KEY_PLAYPAUSE.
KEY_GESTURES: dict[int, str] = {
    KEY_PLAYPAUSE: "play-pause",
    KEY_PLAYCD: "play-pause",
    KEY_PAUSECD: "play-pause",
    KEY_NEXTSONG: "next",
    KEY_PREVIOUSSONG: "previous",
}
MEDIA_KEYS = frozenset(KEY_GESTURES)

GESTURES = ("next", "previous", "play-pause", "play-pause-double")
ACTIONS = ("skip", "repeat", "helpful", "not-helpful", "pause", "less-talk", "more-talk")
DOUBLE_PRESS_SECONDS = 0.6

DEFAULT_BUTTON_MAPPING: dict[str, str | None] = {
    "next": "skip",                   # stop the current line, and "less talk"
    "previous": "repeat",             # say the last line again
    "play-pause-double": "helpful",   # rate the last line helpful
    # A single press belongs to the music player (the daemon does not grab the device).
    "play-pause": None,
}


@dataclass(frozen=True)
class ButtonAction:
    """What the athlete asked for with a button, put on the daemon's queue."""

    action: str
    gesture: str
    timestamp: float
    device: str


def validate_mapping(mapping: Mapping[str, str | None]) -> dict[str, str | None]:
    """DEFAULT_BUTTON_MAPPING updated with `mapping`; ConfigError naming a bad entry."""
    for gesture, action in mapping.items():
        if gesture not in GESTURES:
            raise ConfigError(f"buttons: unknown gesture {gesture!r} "
                              f"(known: {', '.join(GESTURES)})")
        if action is not None and action not in ACTIONS:
            raise ConfigError(f"buttons.{gesture}: unknown action {action!r} "
                              f"(known: {', '.join(ACTIONS)})")
    return {**DEFAULT_BUTTON_MAPPING, **mapping}


class GestureDecoder:
    """Turns key-down times into gestures; tells a single press from a double press.

    A play/pause press is held back (`pending`) until a second press comes within the
    window (a double press) or something proves it single: another key, a press after
    the window, or `expire(pending)` called by a timer when the window has passed.
    """

    def __init__(self, double_press_seconds: float = DOUBLE_PRESS_SECONDS) -> None:
        self.window = double_press_seconds
        self.pending: float | None = None

    def press(self, gesture: str, t: float) -> list[tuple[str, float]]:
        """A key went down at `t` (the event's time); the gestures now complete, with the
        time each began."""
        done: list[tuple[str, float]] = []
        if gesture == "play-pause":
            if self.pending is not None and t - self.pending <= self.window:
                self.pending = None
                return [("play-pause-double", t)]
            if self.pending is not None:
                done.append(("play-pause", self.pending))
            self.pending = t
            return done
        if self.pending is not None:
            done.append(("play-pause", self.pending))
            self.pending = None
        done.append((gesture, t))
        return done

    def expire(self, pending: float) -> list[tuple[str, float]]:
        """The window of the press at `pending` has passed: it was a single press."""
        if self.pending is None or self.pending != pending:
            return []
        self.pending = None
        return [("play-pause", pending)]
