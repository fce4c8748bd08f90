"""Retention purge, user deletion and user export."""

import json
from typing import Any

import sqlite_utils

from edgecoach.store.database import Database
from edgecoach.store.erasures import is_erased, mark_erased
from edgecoach.store.subscriptions import Subscriptions

DAY = 86400
# Tables holding a user's rows, with the column that dates them.
USER_TABLES = {
    "voice_responses": "createdAt",
    "events": "createdAt",
    "training_data": "createdAt",
    "limit_denials": "createdAt",
    "rate_limits": "windowStart",
    "outbox": "createdAt",
    # The talk budget's preferences (session/talk_budget.py), dated by their last change.
    "coaching_state": "updatedAt",
    "trigger_ratings": "updatedAt",
    "speculative_clips": "createdAt",
    # Sync down's cursor for the user (sync/device_state.py).
    "sync_state": "lastDownAt",
    # Workouts (store/workouts.py) and their heart rate; their events are in `events`.
    "workouts": "start",
    "workout_samples": "at",
}
JSON_COLUMNS = {"metadata", "workoutContext", "deviceState", "feedback", "payload",
                "userFeedback", "devicePreferences", "privacySettings", "usageStats", "summary"}


def _drop_speculative_audio(db: sqlite_utils.Database, user_id: str) -> int:
    """Delete clips synthesized ahead of time for the user alone and never spoken to
    anyone else (a spoken clip is referenced by a response and handled with it)."""
    return db.execute(
        "delete from audio_cache where cacheKey in (select cacheKey from speculative_clips "
        "where userId = ?) and cacheKey not in (select cacheKey from speculative_clips "
        "where userId != ?) and cacheKey not in (select audioKey from voice_responses "
        "where audioKey is not null and userId != ?)", [user_id] * 3,
    ).rowcount


def _drop_unshared_audio(db: sqlite_utils.Database, where: str, params: list) -> int:
    """Delete cached audio used only by the responses matched by `where`."""
    return db.execute(
        f"delete from audio_cache where cacheKey in (select audioKey from voice_responses "
        f"where {where}) and cacheKey not in (select audioKey from voice_responses "
        f"where audioKey is not null and not ({where}))",
        params + params,
    ).rowcount


class Retention:
    def __init__(self, database: Database) -> None:
        self.database = database
        self.subscriptions = Subscriptions(database)

    def note_prepared_clip(self, user_id: str, cache_key: str) -> None:
        """A clip synthesized ahead of time for the user: it goes when the user does (at
        once if the user was erased while it was being made)."""
        with self.database.transaction() as db:
            if is_erased(db, user_id):
                db.execute(
                    "delete from audio_cache where cacheKey = ? and cacheKey not in (select "
                    "cacheKey from speculative_clips) and cacheKey not in (select audioKey "
                    "from voice_responses where audioKey is not null)", [cache_key])
                return
            db.table("speculative_clips").upsert(
                {"cacheKey": cache_key, "userId": user_id, "createdAt": self.database.clock()},
                pk=("cacheKey", "userId"))

    def soft_delete_user(self, user_id: str) -> int:
        """Hide a user's responses at once; `purge` removes them for good."""
        now = self.database.clock()
        with self.database.transaction() as db:
            return db.execute(
                "update voice_responses set deletedAt = ? where userId = ? and deletedAt is null",
                [now, user_id],
            ).rowcount

    def delete_user(self, user_id: str, keep_audio: bool = False) -> dict[str, int]:
        """Soft-delete then purge every row and every unshared audio clip of the user,
        and leave a tombstone: nothing queued for the user is stored afterwards.

        `keep_audio` keeps the cached clips (the demo starts each run afresh but fast).
        """
        self.soft_delete_user(user_id)
        with self.database.transaction() as db:
            mark_erased(db, user_id, self.database.clock())
            counts = {"audio_cache": 0 if keep_audio else _drop_unshared_audio(
                db, "userId = ?", [user_id]) + _drop_speculative_audio(db, user_id)}
            for table in USER_TABLES:
                counts[table] = db.execute(
                    f"delete from {table} where userId = ?", [user_id]).rowcount
            counts["subscriptions"] = db.execute(
                "delete from subscriptions where userId = ?", [user_id]).rowcount
        self._checkpoint()
        return counts

    def purge(self) -> dict[str, int]:
        """Remove rows older than each user's dataRetentionDays, and soft-deleted rows."""
        now = self.database.clock()
        counts = dict.fromkeys([*USER_TABLES, "audio_cache"], 0)
        with self.database.reading() as db:
            users = {row[0] for table in USER_TABLES
                     for row in db.execute(f"select distinct userId from {table}")}
        for user_id in sorted(users):
            days = self.subscriptions.get(user_id).privacy_settings.data_retention_days
            cutoff = now - days * DAY
            with self.database.transaction() as db:
                old = "userId = ? and (createdAt < ? or deletedAt is not null)"
                counts["audio_cache"] += _drop_unshared_audio(db, old, [user_id, cutoff])
                for table, column in USER_TABLES.items():
                    counts[table] += db.execute(
                        f"delete from {table} where userId = ? and {column} < ?",
                        [user_id, cutoff]).rowcount
                counts["voice_responses"] += db.execute(
                    "delete from voice_responses where userId = ? and deletedAt is not null",
                    [user_id]).rowcount
        self._checkpoint()
        return counts

    def export_user(self, user_id: str) -> dict[str, Any]:
        """One JSON-ready document of everything stored about the user (audio by key)."""
        document: dict[str, Any] = {
            "userId": user_id,
            "exportedAt": self.database.clock(),
            "subscription": self.subscriptions.get(user_id).to_json_dict(),
        }
        with self.database.reading() as db:
            for table in USER_TABLES:
                rows = db.query(f"select * from {table} where userId = ?", [user_id])
                document[table] = [_decode(row) for row in rows]
        return document

    def _checkpoint(self) -> None:
        with self.database.reading() as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _decode(row: dict) -> dict:
    return {key: json.loads(value) if key in JSON_COLUMNS and isinstance(value, str) else value
            for key, value in row.items()}
