"""The record of the workout under way: opened at pre-start, its heart rate (with the
running strain) and its events attached, closed with a summary at workout-end.

Used by the daemon and by replays alike. Every method but `on_sample` writes to the
store: call them from a worker thread. Samples are buffered and written in batches, so
a crash loses at most FLUSH_EVERY samples, never an event.
"""

from edgecoach.contract import WorkoutEvent
from edgecoach.session.zone_cues import DEFAULT_ZONES, target_zone
from edgecoach.settings import AthleteSettings, StrainSettings
from edgecoach.sources.strain import StrainMeter
from edgecoach.store.workouts import Workout, Workouts, WorkoutSample

FLUSH_EVERY = 30  # samples (about half a minute of a strap's readings)


class WorkoutRecorder:
    def __init__(self, workouts: Workouts, user_id: str, source: str,
                 athlete: AthleteSettings, strain: StrainSettings) -> None:
        self.workouts = workouts
        self.user_id = user_id
        self.source = source
        self.athlete = athlete
        self.strain_settings = strain
        self.workout_id: str | None = None
        self.last_finished: Workout | None = None
        self._meter = StrainMeter.from_settings(athlete, strain)
        self._pending: list[WorkoutSample] = []

    @property
    def flush_due(self) -> bool:
        return len(self._pending) >= FLUSH_EVERY

    def on_event(self, event: WorkoutEvent) -> None:
        """Before the event is handled: pre-start opens a new workout (closing an open one)."""
        if event.trigger_id != "pre-start" or event.user_id != self.user_id:
            return
        if self.workout_id is not None:
            self.finish(event.timestamp)
        self.workout_id = self.workouts.begin(self.user_id, self.source, event.timestamp)
        self._meter = StrainMeter.from_settings(self.athlete, self.strain_settings)

    def on_handled(self, event: WorkoutEvent) -> None:
        """After the event is stored and handled: attach it; workout-end closes the workout."""
        if self.workout_id is None or event.user_id != self.user_id:
            return
        self.workouts.attach_event(self.workout_id, event.id)
        if event.trigger_id == "workout-end":
            self.finish(event.timestamp)

    def on_sample(self, bpm: int, at: float) -> None:
        """Buffer one reading of the workout under way (no store write: loop-safe)."""
        if self.workout_id is None:
            return
        self._meter.feed(bpm, at)
        self._pending.append(WorkoutSample(at, bpm, round(self._meter.strain, 2)))

    def flush(self) -> None:
        if self.workout_id is not None and self._pending:
            pending, self._pending = self._pending, []
            self.workouts.add_samples(self.workout_id, self.user_id, pending)

    def finish(self, at: float) -> Workout | None:
        """Close the workout under way (if any); returns it with its summary."""
        if self.workout_id is None:
            return None
        self.flush()
        zone = target_zone(self.athlete, DEFAULT_ZONES["work"])
        self.last_finished = self.workouts.finish(
            self.workout_id, at, {"targetZone": {"low": zone.low, "high": zone.high}})
        self.workout_id = None
        return self.last_finished
