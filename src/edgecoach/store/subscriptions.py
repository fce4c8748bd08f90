"""Per-user subscription and settings; a user without a row gets the defaults."""

import json
from typing import Any

from edgecoach.contract import Subscription, parse
from edgecoach.errors import UserErased, ValidationFailed
from edgecoach.store.database import Database
from edgecoach.store.erasures import clear_erased, is_erased
from edgecoach.store.outbox import enqueue


def subscription_from_row(row: dict) -> Subscription:
    data = {key: value for key, value in row.items() if key != "updatedAt"}
    for key in ("devicePreferences", "privacySettings", "usageStats"):
        data[key] = json.loads(data[key])
    data["voiceAccess"] = bool(data["voiceAccess"])
    return parse(Subscription, data)


class Subscriptions:
    def __init__(self, database: Database) -> None:
        self.database = database

    def get(self, user_id: str) -> Subscription:
        with self.database.reading() as db:
            rows = list(db.query("select * from subscriptions where userId = ?", [user_id]))
        return subscription_from_row(rows[0]) if rows else Subscription(user_id=user_id)

    def put(self, subscription: Subscription, updated_at: float | None = None,
            share: bool = False) -> None:
        """Store the settings; a new subscription is what brings an erased user back.
        `updated_at` (default now) dates them against the cloud's.
        `share`: the athlete changed them here, queue them for the cloud (sync down's
        newer-wins rule then keeps the newer of the two)."""
        row = subscription.to_json_dict()
        row["updatedAt"] = self.database.clock() if updated_at is None else updated_at
        with self.database.transaction() as db:
            clear_erased(db, subscription.user_id)
            db.table("subscriptions").upsert(row, pk="userId")
            if share:
                enqueue(db, user_id=subscription.user_id, kind="subscription",
                        record_id=subscription.user_id, now=row["updatedAt"])

    def patch(self, user_id: str, changes: dict[str, Any]) -> Subscription:
        """Change only the fields in `changes` (camelCase, as the seed's partial update);
        devicePreferences and privacySettings merge field by field. Usage stats are the
        daemon's counters and cannot be patched."""
        for field, value in changes.items():
            if value is None:
                raise ValidationFailed(field, "may not be null")
        if "usageStats" in changes:
            raise ValidationFailed("usageStats", "is read-only")
        with self.database.transaction() as db:
            if is_erased(db, user_id):  # a partial change is no new subscription
                raise UserErased(f"user {user_id} was erased; store a new subscription first")
            current = self.get(user_id).to_json_dict()
            merged = {**current, **changes, "userId": user_id}
            for key in ("devicePreferences", "privacySettings"):
                merged[key] = {**current[key], **changes.get(key, {})}
            updated = parse(Subscription, merged)
            self.put(updated, share=True)
        return updated

    def updated_at(self, user_id: str) -> float | None:
        """When the user's settings last changed here (None: never stored)."""
        with self.database.reading() as db:
            row = db.execute(
                "select updatedAt from subscriptions where userId = ?", [user_id]).fetchone()
        return row[0] if row else None

    def user_ids(self) -> list[str]:
        with self.database.reading() as db:
            return [row[0] for row in db.execute("select userId from subscriptions")]

    def exists(self, user_id: str) -> bool:
        with self.database.reading() as db:
            return db.execute(
                "select 1 from subscriptions where userId = ?", [user_id]
            ).fetchone() is not None

    def reset_monthly_usage(self) -> int:
        """Start a new month of usage stats for every user; returns how many were reset."""
        with self.database.transaction() as db:
            return db.execute(
                "update subscriptions set usageStats = "
                "json_set(usageStats, '$.monthlyResponses', 0)"
            ).rowcount
