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
from edgecoach.errors import Conflict, NotFound, UserErased
from edgecoach.privacy import sanitize_text
from edgecoach.store.database import Database
from edgecoach.store.erasures import is_erased
from edgecoach.store.outbox import enqueue, enqueue_once
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

    def record_event(self, event: WorkoutEvent) -> bool:
        """Every accepted event is stored first, so none is lost whatever happens next.

        True when stored now; False when this very event (same id, user, trigger and
        context) is stored already. An id that names another event is never replaced
        (Conflict), and nothing is stored for an erased user (UserErased).
        """
        payload = event.to_json_dict()
        with self.database.transaction() as db:
            if is_erased(db, event.user_id):
                raise UserErased(f"user {event.user_id} was erased; store a new subscription "
                                 "before sending events")
            existing = db.execute("select payload from events where id = ?",
                                  [event.id]).fetchone()
            if existing is not None:
                if _same_event(json.loads(existing[0]), payload):
                    return False
                raise Conflict(f"event id {event.id} is taken by another event; "
                               "use a new id")
            db.table("events").insert(
                {"id": event.id, "userId": event.user_id, "triggerId": event.trigger_id,
                 "source": event.source, "payload": payload, "status": "received",
                 "reason": None, "responseId": None, "createdAt": event.timestamp})
        return True

    def forget_event(self, event_id: str) -> None:
        """Remove an event stored but never acknowledged (the queue filled meanwhile)."""
        with self.database.transaction() as db:
            db.execute("delete from events where id = ? and status = 'received'", [event_id])

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

    def add(self, response: VoiceResponse) -> bool:
        """Store a spoken line, queue it for upstream and count it, in one transaction;
        False (nothing stored) when the user was erased while the line was on its way."""
        now = self.database.clock()
        with self.database.transaction() as db:
            if is_erased(db, response.user_id):
                return False
            db.table("voice_responses").insert(response.to_json_dict())
            enqueue(db, user_id=response.user_id, kind="voice_response",
                    record_id=response.id, now=now)
            if response.event_id:
                db.execute(
                    "update events set status = 'spoken', responseId = ? where id = ?",
                    [response.id, response.event_id],
                )
            _count_usage(db, response.user_id, now)
        return True

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
        """Store the rating (the last one wins) and its one training-data record, queue
        both once, in one transaction."""
        now = self.database.clock()
        with self.database.transaction() as db:
            response = self.get(response_id)
            user_feedback = feedback.model_copy(
                update={"comments": sanitize_text(feedback.comments or "") or None})
            db.execute(
                "update voice_responses set feedback = ? where id = ?",
                [json.dumps(feedback.to_json_dict()), response_id],
            )
            known = db.execute("select id from training_data where responseId = ?",
                               [response_id]).fetchone()
            training = TrainingData(
                **({"id": known[0]} if known else {}),
                user_id=response.user_id,
                persona_id=response.persona_id,
                input_prompt=_prompt_of(response),
                actual_output=response.text_content,
                quality=(feedback.rating - 1) / 4,
                user_feedback=user_feedback,
                created_at=now,
            )
            row = training.to_json_dict()
            row["responseId"] = response_id
            db.table("training_data").upsert(row, pk="id")
            enqueue_once(db, user_id=response.user_id, kind="feedback", record_id=response_id,
                         now=now)
            enqueue_once(db, user_id=response.user_id, kind="training_data",
                         record_id=training.id, now=now)
            _update_average_rating(db, response.user_id)
        return response.model_copy(update={"feedback": feedback})

    def event_counts(self, user_id: str) -> dict[str, int]:
        with self.database.reading() as db:
            return {status: count for status, count in db.execute(
                "select status, count(*) from events where userId = ? group by status",
                [user_id])}


def _same_event(stored: dict, new: dict) -> bool:
    """The same event sent again: a retry may carry a new default timestamp or source."""
    ignored = ("timestamp", "source")
    return ({k: v for k, v in stored.items() if k not in ignored}
            == {k: v for k, v in new.items() if k not in ignored})


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
    # Not `updatedAt`: that dates the athlete's settings against the cloud's (sync down),
    # and a line spoken is no change of settings.
    db.table("subscriptions").upsert(row, pk="userId")


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
