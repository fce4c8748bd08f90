"""Event sources: BLE heart-rate straps, earbuds through BlueZ, replayed recordings, strain.

Every source puts validated WorkoutEvents, HeartRateSamples or device-state changes on
the daemon's one asyncio queue, and none blocks the loop. A replayed script also hands
over its WorkoutPlan before the first event.
"""

from edgecoach.sources.bluez import EarbudsWatcher, is_audio_output
from edgecoach.sources.fit import Recording, read_fit
from edgecoach.sources.gatt import (
    HeartRateMeasurement,
    MalformedMeasurement,
    parse_heart_rate_measurement,
)
from edgecoach.sources.heart_rate import HeartRateMonitor
from edgecoach.sources.items import (
    EarbudsState,
    HeartRateSample,
    ReplayItem,
    StrapState,
    WorkoutPlan,
)
from edgecoach.sources.replay import plan_recording, replay, replay_fit, replay_script
from edgecoach.sources.script import read_script
from edgecoach.sources.strain import StrainMeter

__all__ = [
    "EarbudsState",
    "EarbudsWatcher",
    "HeartRateMeasurement",
    "HeartRateMonitor",
    "HeartRateSample",
    "MalformedMeasurement",
    "Recording",
    "ReplayItem",
    "StrainMeter",
    "StrapState",
    "WorkoutPlan",
    "is_audio_output",
    "parse_heart_rate_measurement",
    "plan_recording",
    "read_fit",
    "read_script",
    "replay",
    "replay_fit",
    "replay_script",
]
