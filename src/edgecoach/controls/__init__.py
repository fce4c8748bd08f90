"""What the athlete does to the coach by hand: earbud media buttons."""

from edgecoach.controls.buttons import RESCAN_SECONDS, ButtonReader, is_earbud_controls
from edgecoach.controls.gestures import (
    ACTIONS,
    DEFAULT_BUTTON_MAPPING,
    DOUBLE_PRESS_SECONDS,
    GESTURES,
    ButtonAction,
    GestureDecoder,
    validate_mapping,
)

__all__ = [
    "ACTIONS",
    "DEFAULT_BUTTON_MAPPING",
    "DOUBLE_PRESS_SECONDS",
    "GESTURES",
    "RESCAN_SECONDS",
    "ButtonAction",
    "ButtonReader",
    "GestureDecoder",
    "is_earbud_controls",
    "validate_mapping",
]
