"""What sources put on the daemon's queue besides workout events."""

from dataclasses import dataclass

from edgecoach.contract import TriggerId, WorkoutContext, WorkoutEvent


@dataclass(frozen=True)
class HeartRateSample:
    """One heart-rate reading from a strap or a recording.

    `rr_intervals` are beat-to-beat intervals in seconds; `contact` is None when the
    sensor does not report skin contact.
    """

    bpm: int
    timestamp: float
    rr_intervals: tuple[float, ...] = ()
    contact: bool | None = None
    source: str = "ble"


@dataclass(frozen=True)
class StrapState:
    """The heart-rate strap's link changed (connected, or lost)."""

    connected: bool
    address: str
    name: str | None
    timestamp: float
    battery_percent: int | None = None


@dataclass(frozen=True)
class EarbudsState:
    """Whether audio earbuds/headphones are connected through BlueZ, and which."""

    has_earbuds: bool
    devices: tuple[str, ...]
    timestamp: float


@dataclass(frozen=True)
class WorkoutPlan:
    """The set events a workout is planned to bring, in order, handed over before it starts.

    A companion app knows its template of sets, a script replay its script; the pipeline
    prepares the coming sets' lines from it. Each event is its trigger and its context as
    planned (what is measured during a set is not known yet and is not relied on).
    """

    user_id: str
    events: tuple[tuple[TriggerId, WorkoutContext], ...]


@dataclass(frozen=True)
class ReplayItem:
    """One item of a replayed workout, with its offset from the workout start (seconds)."""

    offset: float
    payload: WorkoutEvent | HeartRateSample | WorkoutPlan

    @property
    def is_event(self) -> bool:
        return isinstance(self.payload, WorkoutEvent)
