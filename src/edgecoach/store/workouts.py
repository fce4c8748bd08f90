"""Workouts as records of their own: id, start, end, source and summary, with the
heart-rate samples and the events that belong to each (for reports, export, deletion)."""

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from edgecoach.errors import NotFound
from edgecoach.store.database import Database


@dataclass(frozen=True)
class Workout:
    id: str
    user_id: str
    start: float
    end: float | None
    source: str
    summary: dict[str, Any]

    def to_json_dict(self) -> dict[str, Any]:
        return {"id": self.id, "userId": self.user_id, "start": self.start, "end": self.end,
                "source": self.source, "summary": self.summary}


@dataclass(frozen=True)
class WorkoutSample:
    at: float
    heart_rate: int
    strain: float | None


@dataclass(frozen=True)
class WorkoutEventRow:
    """One event of a workout as stored, with the line spoken for it (if any)."""

    id: str
    trigger_id: str
    at: float
    status: str
    reason: str | None
    context: dict[str, Any]
    text: str | None = None
    persona_id: str | None = None
    audio_key: str | None = None
    audio_length: float | None = None


def _workout_from_row(row: dict) -> Workout:
    return Workout(id=row["id"], user_id=row["userId"], start=row["start"], end=row["end"],
                   source=row["source"], summary=json.loads(row["summary"] or "{}"))


class Workouts:
    """The `workouts` and `workout_samples` tables; blocking (call from a worker thread)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def begin(self, user_id: str, source: str, start: float) -> str:
        workout_id = str(uuid.uuid4())
        with self.database.transaction() as db:
            db.table("workouts").insert(
                {"id": workout_id, "userId": user_id, "start": start, "end": None,
                 "source": source, "summary": "{}", "createdAt": self.database.clock()})
        return workout_id

    def add_samples(self, workout_id: str, user_id: str,
                    samples: Iterable[WorkoutSample]) -> None:
        rows = [{"workoutId": workout_id, "userId": user_id, "at": sample.at,
                 "heartRate": sample.heart_rate, "strain": sample.strain}
                for sample in samples]
        if rows:
            with self.database.transaction() as db:
                db.table("workout_samples").insert_all(rows)

    def attach_event(self, workout_id: str, event_id: str) -> None:
        with self.database.transaction() as db:
            db.execute("update events set workoutId = ? where id = ?", [workout_id, event_id])

    def finish(self, workout_id: str, end: float,
               extra: dict[str, Any] | None = None) -> Workout:
        """Close the workout and store its summary, computed from what was stored
        (plus `extra`, e.g. the target zone in force)."""
        summary = self._summarize(workout_id, end) | (extra or {})
        with self.database.transaction() as db:
            db.execute("update workouts set end = ?, summary = ? where id = ?",
                       [end, json.dumps(summary), workout_id])
        return self.get(workout_id)

    def get(self, workout_id: str) -> Workout:
        with self.database.reading() as db:
            rows = list(db.query("select * from workouts where id = ?", [workout_id]))
        if not rows:
            raise NotFound(f"workout {workout_id} not found")
        return _workout_from_row(rows[0])

    def last(self, user_id: str) -> Workout:
        """The user's most recent finished workout."""
        with self.database.reading() as db:
            rows = list(db.query(
                "select * from workouts where userId = ? and end is not null "
                "order by start desc limit 1", [user_id]))
        if not rows:
            raise NotFound(f"no finished workout for user {user_id}")
        return _workout_from_row(rows[0])

    def of_user(self, user_id: str, limit: int = 50) -> list[Workout]:
        with self.database.reading() as db:
            rows = db.query("select * from workouts where userId = ? order by start desc "
                            "limit ?", [user_id, limit])
            return [_workout_from_row(row) for row in rows]

    def samples(self, workout_id: str) -> list[WorkoutSample]:
        with self.database.reading() as db:
            return [WorkoutSample(at, heart_rate, strain) for at, heart_rate, strain in db.execute(
                "select at, heartRate, strain from workout_samples where workoutId = ? "
                "order by at, rowid", [workout_id])]

    def events(self, workout_id: str) -> list[WorkoutEventRow]:
        with self.database.reading() as db:
            rows = db.execute(
                "select e.id, e.triggerId, e.createdAt, e.status, e.reason, e.payload, "
                "r.textContent, r.personaId, r.audioKey, r.audioLength from events e "
                "left join voice_responses r on r.id = e.responseId and r.deletedAt is null "
                "where e.workoutId = ? order by e.createdAt, e.rowid", [workout_id]).fetchall()
        return [WorkoutEventRow(
            id=row[0], trigger_id=row[1], at=row[2], status=row[3], reason=row[4],
            context=json.loads(row[5]).get("context", {}), text=row[6], persona_id=row[7],
            audio_key=row[8], audio_length=row[9]) for row in rows]

    def _summarize(self, workout_id: str, end: float) -> dict[str, Any]:
        workout = self.get(workout_id)
        with self.database.reading() as db:
            count, average, peak = db.execute(
                "select count(*), avg(heartRate), max(heartRate) from workout_samples "
                "where workoutId = ?", [workout_id]).fetchone()
            strain = db.execute(
                "select strain from workout_samples where workoutId = ? and strain is not null "
                "order by at desc limit 1", [workout_id]).fetchone()
            statuses = dict(db.execute(
                "select status, count(*) from events where workoutId = ? group by status",
                [workout_id]).fetchall())
            sets = db.execute("select count(*) from events where workoutId = ? and "
                              "triggerId = 'set-end'", [workout_id]).fetchone()[0]
        return {
            "durationSeconds": round(max(0.0, end - workout.start), 1),
            "heartRateSamples": count,
            "averageHeartRate": round(average) if average is not None else None,
            "peakHeartRate": peak,
            "strain": round(strain[0], 1) if strain else None,
            "sets": sets,
            "linesSpoken": statuses.get("spoken", 0),
            "heldBack": statuses.get("suppressed", 0),
            "failed": statuses.get("failed", 0),
        }
