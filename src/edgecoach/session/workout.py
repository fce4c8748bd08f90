"""One workout as the daemon lives it: heart rate, strap status, zone cues, live strain.

Workout events pass through `on_event` (pre-start opens the workout, workout-end closes
it); heart-rate samples and strap changes turn into new events (hr-zone, strainsync) or
spoken notices. A strap that connects mid-workout simply joins: its samples are used.
"""

import logging
from dataclasses import dataclass

from edgecoach.contract import TriggerId, WorkoutContext, WorkoutEvent
from edgecoach.session.zone_cues import ZoneCueDetector
from edgecoach.settings import AthleteSettings, StrainSettings
from edgecoach.sources.items import HeartRateSample, StrapState
from edgecoach.sources.strain import StrainMeter

log = logging.getLogger(__name__)

STRAP_LOST = "Lost your heart-rate strap. Coaching on sets only until it is back."
STRAP_BACK = "Heart-rate strap is back. Heart-rate coaching is on again."


@dataclass(frozen=True)
class Notice:
    """A fixed status line (not from the model), spoken at a trigger-like priority."""

    kind: str
    text: str
    priority: int = 8


class WorkoutSession:
    def __init__(self, user_id: str, athlete: AthleteSettings, strain: StrainSettings,
                 live_strain: bool = True) -> None:
        self.user_id = user_id
        self.athlete = athlete
        self.strain_settings = strain
        # A replayed recording computes its own strain; a live strap needs ours.
        self.live_strain = live_strain
        self.active = False
        self.strap_connected: bool | None = None
        self.heart_rate: int | None = None
        self.zones: ZoneCueDetector | None = None
        self.meter: StrainMeter | None = None

    def on_event(self, event: WorkoutEvent) -> None:
        if event.trigger_id == "pre-start":
            self.active = True
            self.zones = ZoneCueDetector(self.athlete, start=event.timestamp)
            self.meter = StrainMeter.from_settings(self.athlete, self.strain_settings)
        elif event.trigger_id == "workout-end":
            self.active = False
            self.zones = None

    @property
    def heart_rate_paused(self) -> bool:
        """Coaching that needs heart rate waits while the strap is gone."""
        return self.strap_connected is False

    def on_sample(self, sample: HeartRateSample, at: float) -> list[WorkoutEvent]:
        self.heart_rate = sample.bpm
        if not self.active or self.heart_rate_paused:
            return []
        events = []
        if self.zones is not None and (cue := self.zones.feed(sample.bpm, at)):
            events.append(self._event("hr-zone", cue.context(), at))
        if self.live_strain and self.meter is not None and self.meter.feed(sample.bpm, at):
            events.append(self._event("strainsync", WorkoutContext(
                strain=round(self.meter.strain, 1), heart_rate=sample.bpm), at))
        return events

    def on_strap(self, state: StrapState) -> Notice | None:
        """Tell the athlete once when the strap drops mid-workout, and once when it is back."""
        was = self.strap_connected
        self.strap_connected = state.connected
        if not self.active or was is None or was == state.connected:
            return None
        log.info("heart-rate strap %s", "back" if state.connected else "lost")
        return Notice("strap-back", STRAP_BACK) if state.connected else Notice(
            "strap-lost", STRAP_LOST)

    def _event(self, trigger_id: TriggerId, context: WorkoutContext, at: float) -> WorkoutEvent:
        return WorkoutEvent(trigger_id=trigger_id, user_id=self.user_id, context=context,
                            timestamp=at, source="ble" if self.live_strain else "replay")
