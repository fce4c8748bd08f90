"""Events, voice responses and feedback: the writes that must never be lost."""

import json
from typing import Literal

import sqlite_utils

from edgecoach.contract import (
    Feedback,
    Subscription,
    TrainingData,
    VoiceResponse,
    WorkoutEvent,
    parse,
)
from edgecoach.errors import NotFound
from edgecoach.privacy import sanitize_text
from edgecoach.store.database import Database
from edgecoach.store.outbox import enqueue
from edgecoach.store.subscriptions import subscription_from_row

EventStatus = Literal["received", "spoken", "suppressed", "failed"]
JSON_COLUMNS = ("metadata", "workoutContext", "deviceState", "feedback")


def response_from_row(row: dict) -> VoiceResponse:
    data = dict(row)
    for key in JSON_COLUMNS:
        data[key] = json.loads(data[key]) if data[key] else None
    if data["deviceState"] is None:
        del data["deviceState"]
    return parse(VoiceResponse, data)


class Responses:
    def __init__(self, database: Database) -> None:
        self.database = database

    def record_event(self, event: WorkoutEvent) -> None:
        """Every accepted event is stored first, so none is lost whatever happens next."""
        with self.database.transaction() as db:
            db.table("events").insert(
                {"id": event.id, "userId": event.user_id, "triggerId": event.trigger_id,
                 "source": event.source, "payload": event.to_json_dict(), "status": "received",
                 "reason": None, "responseId": None, "createdAt": event.timestamp},
                replace=True,
            )

    def unfinished_events(self) -> list[WorkoutEvent]:
        """Events stored but never spoken, held back or failed: a crash came between."""
        with self.database.reading() as db:
            rows = db.execute(
                "select payload from events where status = 'received' order by createdAt")
            return [parse(WorkoutEvent, json.loads(row[0])) for row in rows]

    def mark_event(self, event_id: str, status: EventStatus, reason: str | None = None) -> None:
        with self.database.transaction() as db:
            db.execute(
                "update events set status = ?, reason = ? where id = ?",
                [status, reason, event_id],
            )

    def add(self, response: VoiceResponse) -> None:
        """Store a spoken line, queue it for upstream and count it, in one transaction."""
        now = self.database.clock()
        with self.database.transaction() as db:
            db.table("voice_responses").insert(response.to_json_dict())
            enqueue(db, user_id=response.user_id, kind="voice_response",
                    record_id=response.id, now=now)
            if response.event_id:
                db.execute(
                    "update events set status = 'spoken', responseId = ? where id = ?",
                    [response.id, response.event_id],
                )
            _count_usage(db, response.user_id, now)

    def get(self, response_id: str) -> VoiceResponse:
        with self.database.reading() as db:
            rows = list(db.query(
                "select * from voice_responses where id = ? and deletedAt is null", [response_id]))
        if not rows:
            raise NotFound(f"response {response_id} not found")
        return response_from_row(rows[0])

    def recent(self, user_id: str, limit: int = 20) -> list[VoiceResponse]:
        with self.database.reading() as db:
            rows = db.query(
                "select * from voice_responses where userId = ? and deletedAt is null "
                "order by createdAt desc limit ?", [user_id, limit])
            return [response_from_row(row) for row in rows]

    def recent_texts(self, user_id: str, limit: int = 50) -> list[str]:
        with self.database.reading() as db:
            return [row[0] for row in db.execute(
                "select textContent from voice_responses where userId = ? and deletedAt is null "
                "order by createdAt desc limit ?", [user_id, limit])]

    def set_feedback(self, response_id: str, feedback: Feedback) -> VoiceResponse:
        """Store the rating, derive a training-data record, queue both, in one transaction."""
        response = self.get(response_id)
        now = self.database.clock()
        training = TrainingData(
            user_id=response.user_id,
            persona_id=response.persona_id,
            input_prompt=_prompt_of(response),
            actual_output=response.text_content,
            quality=(feedback.rating - 1) / 4,
            user_feedback=feedback.model_copy(
                update={"comments": sanitize_text(feedback.comments or "") or None}),
            created_at=now,
        )
        with self.database.transaction() as db:
            db.execute(
                "update voice_responses set feedback = ? where id = ?",
                [json.dumps(feedback.to_json_dict()), response_id],
            )
            row = training.to_json_dict()
            row["responseId"] = response_id
            db.table("training_data").insert(row)
            enqueue(db, user_id=response.user_id, kind="feedback", record_id=response_id,
                    now=now)
            enqueue(db, user_id=response.user_id, kind="training_data", record_id=training.id,
                    now=now)
            _update_average_rating(db, response.user_id)
        return response.model_copy(update={"feedback": feedback})

    def event_counts(self, user_id: str) -> dict[str, int]:
        with self.database.reading() as db:
            return {status: count for status, count in db.execute(
                "select status, count(*) from events where userId = ? group by status",
                [user_id])}


def _prompt_of(response: VoiceResponse) -> str:
    context = response.workout_context.model_dump(by_alias=True, exclude_defaults=True)
    return json.dumps(
        {"persona": response.persona_id, "trigger": response.trigger_id, "context": context},
        sort_keys=True,
    )


def _subscription_row(db: sqlite_utils.Database, user_id: str) -> dict:
    rows = list(db.query("select * from subscriptions where userId = ?", [user_id]))
    if rows:
        return subscription_from_row(rows[0]).to_json_dict()
    return Subscription(user_id=user_id).to_json_dict()


def _count_usage(db: sqlite_utils.Database, user_id: str, now: float) -> None:
    row = _subscription_row(db, user_id)
    stats = row["usageStats"]
    stats["totalResponses"] += 1
    stats["monthlyResponses"] += 1
    stats["lastUsed"] = now
    db.table("subscriptions").upsert({**row, "updatedAt": now}, pk="userId")


def _update_average_rating(db: sqlite_utils.Database, user_id: str) -> None:
    average = db.execute(
        "select avg(json_extract(feedback, '$.rating')) from voice_responses "
        "where userId = ? and feedback is not null and deletedAt is null", [user_id]
    ).fetchone()[0]
    if average is None:
        return
    row = _subscription_row(db, user_id)
    row["usageStats"]["averageRating"] = round(float(average), 3)
    db.table("subscriptions").upsert(row, pk="userId")
