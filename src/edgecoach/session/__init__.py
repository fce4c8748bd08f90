"""What happens during one workout besides events: heart-rate zone cues and the talk budget."""

from edgecoach.session.talk_budget import (
    ALWAYS_PRIORITY,
    CHATTINESS_LEVELS,
    DEFAULT_CHATTINESS,
    LEVELS,
    Chattiness,
    TalkBudget,
    TalkLevel,
    speak_chance,
)
from edgecoach.session.zone_cues import (
    DEFAULT_ZONES,
    HeartRateZone,
    ZoneBounds,
    ZoneCue,
    ZoneCueDetector,
    ZoneCueTuning,
    target_zone,
)

__all__ = [
    "ALWAYS_PRIORITY",
    "CHATTINESS_LEVELS",
    "DEFAULT_CHATTINESS",
    "DEFAULT_ZONES",
    "LEVELS",
    "Chattiness",
    "HeartRateZone",
    "TalkBudget",
    "TalkLevel",
    "ZoneBounds",
    "ZoneCue",
    "ZoneCueDetector",
    "ZoneCueTuning",
    "speak_chance",
    "target_zone",
]
