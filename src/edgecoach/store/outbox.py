"""The outbox: what must reach upstream, written in the same transaction as its record.

A row names the record (kind + recordId), not a copy of it: the payload is built at send
time, so the privacy settings in force then decide what leaves, and a deleted user's
records are gone from the outbox with them. The row's id is the item's UUID upstream.
"""

import uuid
from typing import Literal

import sqlite_utils

from edgecoach.store.database import Database

OutboxKind = Literal["voice_response", "feedback", "training_data", "coaching_state",
                     "subscription"]


def enqueue(
    db: sqlite_utils.Database, *, user_id: str, kind: OutboxKind, record_id: str, now: float
) -> str:
    """Add an item inside the caller's transaction; returns its UUID."""
    item_id = str(uuid.uuid4())
    db.table("outbox").insert(
        {"id": item_id, "userId": user_id, "path": "", "kind": kind, "recordId": record_id,
         "payload": None, "createdAt": now, "attempts": 0, "nextAttemptAt": now,
         "sentAt": None, "lastError": None}
    )
    return item_id


def enqueue_once(
    db: sqlite_utils.Database, *, user_id: str, kind: OutboxKind, record_id: str, now: float
) -> str:
    """Like `enqueue`, unless the record waits unsent already: that row sends its latest
    state (payloads are built at send time), so a record changed twice leaves once."""
    row = db.execute("select id from outbox where kind = ? and recordId = ? and sentAt is null",
                     [kind, record_id]).fetchone()
    if row is not None:
        return str(row[0])
    return enqueue(db, user_id=user_id, kind=kind, record_id=record_id, now=now)


class Outbox:
    def __init__(self, database: Database) -> None:
        self.database = database

    def due(self, limit: int, now: float) -> list[dict]:
        with self.database.reading() as db:
            return list(db.query(
                "select * from outbox where sentAt is null and nextAttemptAt <= ? "
                "order by createdAt limit ?", [now, limit]))

    def pending_count(self) -> int:
        with self.database.reading() as db:
            return db.execute("select count(*) from outbox where sentAt is null").fetchone()[0]

    def mark_sent(self, item_ids: list[str]) -> None:
        now = self.database.clock()
        with self.database.transaction() as db:
            db.conn.executemany(
                "update outbox set sentAt = ?, lastError = null where id = ?",
                [(now, item_id) for item_id in item_ids],
            )

    def mark_failed(self, item_ids: list[str], error: str, retry_at: float) -> None:
        with self.database.transaction() as db:
            db.conn.executemany(
                "update outbox set attempts = attempts + 1, lastError = ?, nextAttemptAt = ? "
                "where id = ?",
                [(error[:500], retry_at, item_id) for item_id in item_ids],
            )

    def drop(self, item_ids: list[str]) -> None:
        """Items whose record may not leave the device (privacy) or no longer exists."""
        with self.database.transaction() as db:
            db.conn.executemany("delete from outbox where id = ?", [(i,) for i in item_ids])

    def last_sent_at(self) -> float | None:
        with self.database.reading() as db:
            return db.execute("select max(sentAt) from outbox").fetchone()[0]

    def reschedule(self, item_ids: list[str], when: float) -> None:
        """Make unsent items due at `when` (the upstream is back: no need to wait longer)."""
        with self.database.transaction() as db:
            db.conn.executemany(
                "update outbox set nextAttemptAt = ? where id = ? and sentAt is null",
                [(when, item_id) for item_id in item_ids],
            )
