"""Workouts as records of their own: migration, recording, summary, export and deletion.
Real SQLite files; the events are stored as the pipeline stores them."""

import sqlite3
from pathlib import Path

import numpy as np
import pytest
import sqlite_utils

from edgecoach.contract import VoiceResponse, WorkoutContext, WorkoutEvent
from edgecoach.errors import NotFound
from edgecoach.session.recorder import FLUSH_EVERY, WorkoutRecorder
from edgecoach.settings import AthleteSettings, StrainSettings
from edgecoach.store import Store
from edgecoach.store.schema import MIGRATIONS, SCHEMA_VERSION
from edgecoach.voice.cache import AudioCache
from edgecoach.voice.synthesizer import Audio
from tests.conftest import FakeClock

USER = "runner"
OTHER = "someone-else"
ATHLETE = AthleteSettings(age=40, resting_heart_rate=60)


def tone(seconds: float = 0.5, rate: int = 22050) -> Audio:
    t = np.arange(int(seconds * rate)) / rate
    return Audio((np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16), rate)


def handled(store: Store, recorder: WorkoutRecorder, event: WorkoutEvent,
            spoken: str | None = None, reason: str = "cooldown") -> None:
    """What the pipeline does with an event, around the recorder's two calls."""
    recorder.on_event(event)
    store.responses.record_event(event)
    if spoken is None:
        store.responses.mark_event(event.id, "suppressed", reason)
    else:
        key = f"clip-{event.id}"
        AudioCache(store.database, 10**8, 10**6).put(key, "alice", tone())
        store.responses.add(VoiceResponse(
            user_id=event.user_id, trigger_id=event.trigger_id, persona_id="alice",
            text_content=spoken, audio_key=key, audio_length=0.5,
            workout_context=event.context, event_id=event.id))
    recorder.on_handled(event)


def record_workout(store: Store, clock: FakeClock, user: str = USER,
                   heart_rates: list[int] | None = None) -> str:
    """A two-lap run: pre-start (spoken), set-start/set-end x2, an hr sample each second,
    a held-back line, workout-end (spoken). Returns the workout id."""
    recorder = WorkoutRecorder(store.workouts, user, "test", ATHLETE, StrainSettings())
    start = clock()

    def event(trigger, offset, **context) -> WorkoutEvent:
        return WorkoutEvent(trigger_id=trigger, user_id=user, timestamp=start + offset,
                            source="replay", context=WorkoutContext(exercise="run", **context))

    recorder.on_sample(120, start - 5)  # before pre-start: no workout yet, ignored
    handled(store, recorder, event("pre-start", 0), "Let us go.")
    rates = heart_rates or [100 + (i % 60) for i in range(120)]
    for offset, bpm in enumerate(rates):
        recorder.on_sample(bpm, start + offset)
        if recorder.flush_due:
            recorder.flush()
        if offset == 1:
            handled(store, recorder, event("set-start", 1, set_number=1, total_sets=2))
        if offset == 60:
            handled(store, recorder, event("set-end", 60, set_number=1, total_sets=2),
                    "Lap one done.")
            handled(store, recorder, event("set-start", 60, set_number=2, total_sets=2))
    handled(store, recorder, event("set-end", len(rates), set_number=2, total_sets=2,
                                   last_set=True), "Last lap done.")
    handled(store, recorder, event("workout-end", len(rates)), "Good run.")
    assert recorder.workout_id is None and recorder.last_finished is not None
    return recorder.last_finished.id


def test_a_recorded_workout_has_its_samples_events_and_summary(store: Store,
                                                               clock: FakeClock) -> None:
    rates = [100 + (i % 60) for i in range(120)]
    workout_id = record_workout(store, clock, heart_rates=rates)
    workout = store.workouts.get(workout_id)
    assert (workout.user_id, workout.source, workout.start) == (USER, "test", clock())
    assert workout.end == clock() + len(rates)
    samples = store.workouts.samples(workout_id)
    assert [s.heart_rate for s in samples] == rates  # the one before pre-start is not there
    strains = [s.strain for s in samples]
    assert strains == sorted(strains) and strains[-1] > 0  # strain only accumulates
    summary = workout.summary
    assert summary["heartRateSamples"] == len(rates)
    assert summary["averageHeartRate"] == round(sum(rates) / len(rates))
    assert summary["peakHeartRate"] == max(rates)
    assert summary["strain"] == round(strains[-1], 1)
    assert (summary["sets"], summary["linesSpoken"], summary["heldBack"]) == (2, 4, 2)
    assert summary["durationSeconds"] == len(rates)
    assert summary["targetZone"]["low"] < summary["targetZone"]["high"]
    events = store.workouts.events(workout_id)
    assert [e.trigger_id for e in events] == [
        "pre-start", "set-start", "set-end", "set-start", "set-end", "workout-end"]
    assert [e.text for e in events if e.text] == [
        "Let us go.", "Lap one done.", "Last lap done.", "Good run."]
    assert {e.reason for e in events if not e.text} == {"cooldown"}
    assert store.workouts.last(USER).id == workout_id


def test_samples_are_written_in_batches(store: Store, clock: FakeClock) -> None:
    recorder = WorkoutRecorder(store.workouts, USER, "test", ATHLETE, StrainSettings())
    recorder.on_event(WorkoutEvent(trigger_id="pre-start", user_id=USER, timestamp=clock()))
    for second in range(FLUSH_EVERY - 1):
        recorder.on_sample(130, clock() + second)
    assert not recorder.flush_due
    assert store.workouts.samples(recorder.workout_id) == []
    recorder.on_sample(131, clock() + FLUSH_EVERY)
    assert recorder.flush_due
    recorder.flush()
    assert len(store.workouts.samples(recorder.workout_id)) == FLUSH_EVERY


def test_two_readings_in_one_second_are_both_kept(store: Store, clock: FakeClock) -> None:
    workout_id = record_workout(store, clock, heart_rates=[120, 121, 122])
    recorder = WorkoutRecorder(store.workouts, USER, "test", ATHLETE, StrainSettings())
    recorder.on_event(WorkoutEvent(trigger_id="pre-start", user_id=USER, timestamp=clock()))
    recorder.on_sample(140, clock() + 1)
    recorder.on_sample(141, clock() + 1)
    finished = recorder.finish(clock() + 2)
    assert finished is not None and finished.id != workout_id
    assert [s.heart_rate for s in store.workouts.samples(finished.id)] == [140, 141]


def test_a_new_pre_start_closes_the_open_workout(store: Store, clock: FakeClock) -> None:
    recorder = WorkoutRecorder(store.workouts, USER, "test", ATHLETE, StrainSettings())
    recorder.on_event(WorkoutEvent(trigger_id="pre-start", user_id=USER, timestamp=clock()))
    first = recorder.workout_id
    recorder.on_event(WorkoutEvent(trigger_id="pre-start", user_id=USER,
                                   timestamp=clock() + 600))
    assert recorder.workout_id != first
    assert store.workouts.get(first).end == clock() + 600


def test_another_users_events_are_not_attached(store: Store, clock: FakeClock) -> None:
    recorder = WorkoutRecorder(store.workouts, USER, "test", ATHLETE, StrainSettings())
    recorder.on_event(WorkoutEvent(trigger_id="pre-start", user_id=USER, timestamp=clock()))
    stranger = WorkoutEvent(trigger_id="pre-start", user_id=OTHER, timestamp=clock() + 1)
    handled(store, recorder, stranger, "Hello stranger.")
    assert store.workouts.events(recorder.workout_id) == []
    assert store.workouts.of_user(OTHER) == []


def test_unknown_workouts_are_not_found(store: Store) -> None:
    with pytest.raises(NotFound, match="workout nope not found"):
        store.workouts.get("nope")
    with pytest.raises(NotFound, match="no finished workout"):
        store.workouts.last(USER)


def test_workouts_are_exported_and_deleted_with_the_user(store: Store,
                                                         clock: FakeClock) -> None:
    mine = record_workout(store, clock)
    theirs = record_workout(store, clock, user=OTHER)
    export = store.retention.export_user(USER)
    assert [w["id"] for w in export["workouts"]] == [mine]
    assert export["workouts"][0]["summary"]["sets"] == 2  # decoded JSON, not a string
    assert len(export["workout_samples"]) == 120
    assert {e["workoutId"] for e in export["events"]} == {mine}
    counts = store.retention.delete_user(USER)
    assert (counts["workouts"], counts["workout_samples"]) == (1, 120)
    with pytest.raises(NotFound):
        store.workouts.get(mine)
    assert store.workouts.samples(mine) == [] and store.workouts.events(mine) == []
    assert len(store.workouts.samples(theirs)) == 120
    assert len(store.workouts.events(theirs)) == 6


def test_retention_purges_old_workouts(store: Store, clock: FakeClock) -> None:
    workout_id = record_workout(store, clock)
    clock.advance(200 * 86400)  # past the longest retention (180 days)
    counts = store.retention.purge()
    assert counts["workouts"] == 1 and counts["workout_samples"] == 120
    with pytest.raises(NotFound):
        store.workouts.get(workout_id)


def test_a_version_2_database_is_migrated_keeping_its_events(tmp_path: Path,
                                                             clock: FakeClock) -> None:
    path = tmp_path / "old.db"
    old = sqlite_utils.Database(sqlite3.connect(path))
    old.table("schema_version").create({"version": int, "appliedAt": float}, pk="version")
    for number, migration in enumerate(MIGRATIONS[:2], start=1):
        migration(old)
        old.table("schema_version").insert({"version": number, "appliedAt": 0.0})
    old.table("events").insert({"id": "e1", "userId": USER, "triggerId": "set-end",
                                "status": "spoken", "payload": "{}", "createdAt": 1.0})
    old.conn.commit()
    old.close()
    store = Store.open(path, clock=clock)
    try:
        with store.database.reading() as db:
            version = db.execute("select max(version) from schema_version").fetchone()[0]
            row = db.execute("select id, status, workoutId from events").fetchone()
        assert version == SCHEMA_VERSION
        assert row == ("e1", "spoken", None)
        assert store.workouts.of_user(USER) == []
    finally:
        store.close()
