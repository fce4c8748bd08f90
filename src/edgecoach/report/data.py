"""What a workout report shows, read from the store in one go."""

import bisect
from dataclasses import dataclass

from edgecoach.store import Store
from edgecoach.store.workouts import Workout, WorkoutEventRow, WorkoutSample


@dataclass(frozen=True)
class ReportEvent:
    """One event of the workout: the line spoken (with its audio) or why it was held back."""

    offset: float  # seconds from the workout start
    trigger_id: str
    status: str
    reason: str | None
    text: str | None
    persona_id: str | None
    audio_flac: bytes | None  # None: nothing spoken, or the clip left the cache since
    heart_rate: int | None  # at that moment, to place the marker on the curve
    set_number: int | None


@dataclass(frozen=True)
class Lap:
    number: int
    start: float
    end: float


@dataclass(frozen=True)
class ReportData:
    workout: Workout
    samples: list[WorkoutSample]
    events: list[ReportEvent]
    laps: list[Lap]


def load_report_data(store: Store, workout_id: str) -> ReportData:
    """The workout, its samples, events (with audio) and laps; NotFound for an unknown id."""
    workout = store.workouts.get(workout_id)
    samples = store.workouts.samples(workout_id)
    rows = store.workouts.events(workout_id)
    audio = _audio_clips(store, sorted({row.audio_key for row in rows if row.audio_key}))
    times = [sample.at for sample in samples]
    events = [_report_event(row, workout, samples, times, audio) for row in rows]
    return ReportData(workout, samples, events, _laps(events))


def _report_event(row: WorkoutEventRow, workout: Workout, samples: list[WorkoutSample],
                  times: list[float], audio: dict[str, bytes]) -> ReportEvent:
    return ReportEvent(
        offset=max(0.0, row.at - workout.start), trigger_id=row.trigger_id, status=row.status,
        reason=row.reason, text=row.text, persona_id=row.persona_id,
        audio_flac=audio.get(row.audio_key) if row.audio_key else None,
        heart_rate=_heart_rate_at(samples, times, row.at) or row.context.get("heartRate"),
        set_number=row.context.get("setNumber"),
    )


def _heart_rate_at(samples: list[WorkoutSample], times: list[float], at: float) -> int | None:
    """The last reading at or before `at` (the first one for an event before any)."""
    if not samples:
        return None
    index = bisect.bisect_right(times, at)
    return samples[max(0, index - 1)].heart_rate


def _laps(events: list[ReportEvent]) -> list[Lap]:
    starts: dict[int, float] = {}
    laps = []
    for event in events:
        if event.set_number is None:
            continue
        if event.trigger_id == "set-start":
            starts[event.set_number] = event.offset
        elif event.trigger_id == "set-end" and event.set_number in starts:
            laps.append(Lap(event.set_number, starts.pop(event.set_number), event.offset))
    return laps


def _audio_clips(store: Store, keys: list[str]) -> dict[str, bytes]:
    """The cached clips (FLAC, as the cache keeps them) of the lines spoken."""
    if not keys:
        return {}
    marks = ", ".join("?" for _ in keys)
    with store.database.reading() as db:
        return dict(db.execute(
            f"select cacheKey, audio from audio_cache where cacheKey in ({marks})", keys))
