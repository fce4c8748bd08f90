"""Sync down's bookkeeping per user: the cloud's cursor, when it last answered, and the
last reason a reply was not applied (shown by `edgecoach status`)."""

from edgecoach.store.database import Database


class SyncState:
    def __init__(self, database: Database) -> None:
        self.database = database

    def cursor(self, user_id: str) -> float | None:
        with self.database.reading() as db:
            row = db.execute("select cursor from sync_state where userId = ?",
                             [user_id]).fetchone()
        return row[0] if row else None

    def applied(self, user_id: str, cursor: float) -> None:
        """A reply was applied: the next one starts from `cursor`."""
        with self.database.transaction() as db:
            db.table("sync_state").upsert(
                {"userId": user_id, "cursor": cursor, "lastDownAt": self.database.clock(),
                 "lastError": None}, pk="userId")

    def failed(self, user_id: str, error: str) -> None:
        with self.database.transaction() as db:
            db.table("sync_state").upsert(
                {"userId": user_id, "lastError": error[:300]}, pk="userId")

    def last_down(self) -> dict[str, float | str | None]:
        """The newest applied reply over all users, and the newest error left standing."""
        with self.database.reading() as db:
            at = db.execute("select max(lastDownAt) from sync_state").fetchone()[0]
            error = db.execute("select lastError from sync_state where lastError is not null "
                               "limit 1").fetchone()
        return {"at": at, "error": error[0] if error else None}
