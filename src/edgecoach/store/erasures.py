"""Erased users stay erased: a tombstone every write for a user checks first.

`Retention.delete_user` sets it in the transaction that deletes the user's rows. An event,
a line, a count or a preference for that user that was queued, prepared or being
synthesized when the erasure came is dropped when it reaches the store; only a new
subscription (`Subscriptions.put`) clears the tombstone. The helpers take the caller's
open transaction, so the check and the write are one atomic step.

The tombstone keeps a hash of the user id, not the id: an erased user's id is no longer
readable in the database file.
"""

import hashlib

import sqlite_utils

from edgecoach.store.database import Database


def user_hash(user_id: str) -> str:
    return hashlib.sha256(f"edgecoach-erased:{user_id}".encode()).hexdigest()


def is_erased(db: sqlite_utils.Database, user_id: str) -> bool:
    return db.execute("select 1 from erasures where userHash = ?",
                      [user_hash(user_id)]).fetchone() is not None


def mark_erased(db: sqlite_utils.Database, user_id: str, now: float) -> None:
    db.execute("insert or replace into erasures (userHash, erasedAt) values (?, ?)",
               [user_hash(user_id), now])


def clear_erased(db: sqlite_utils.Database, user_id: str) -> None:
    db.execute("delete from erasures where userHash = ?", [user_hash(user_id)])


class Erasures:
    """The store-level view: whether a user is erased, and when."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def is_erased(self, user_id: str) -> bool:
        with self.database.reading() as db:
            return is_erased(db, user_id)

    def erased_at(self, user_id: str) -> float | None:
        with self.database.reading() as db:
            row = db.execute("select erasedAt from erasures where userHash = ?",
                             [user_hash(user_id)]).fetchone()
        return row[0] if row else None
