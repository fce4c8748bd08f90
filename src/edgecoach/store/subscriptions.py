"""Per-user subscription and settings; a user without a row gets the defaults."""

import json

from edgecoach.contract import Subscription, parse
from edgecoach.store.database import Database
from edgecoach.store.erasures import clear_erased


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

    def put(self, subscription: Subscription) -> None:
        """Store the settings; a new subscription is what brings an erased user back."""
        row = subscription.to_json_dict()
        row["updatedAt"] = self.database.clock()
        with self.database.transaction() as db:
            clear_erased(db, subscription.user_id)
            db.table("subscriptions").upsert(row, pk="userId")

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
