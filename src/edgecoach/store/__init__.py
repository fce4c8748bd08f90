"""The SQLite store: one file, one connection, one small class per concern."""

from dataclasses import dataclass
from pathlib import Path

from edgecoach.store.database import Clock, Database
from edgecoach.store.limits import LimitDecision, Limits
from edgecoach.store.outbox import Outbox
from edgecoach.store.responses import Responses
from edgecoach.store.retention import Retention
from edgecoach.store.subscriptions import Subscriptions
from edgecoach.store.workouts import Workouts


@dataclass(frozen=True)
class Store:
    database: Database
    responses: Responses
    subscriptions: Subscriptions
    limits: Limits
    outbox: Outbox
    retention: Retention
    workouts: Workouts

    @classmethod
    def open(cls, path: Path | str, clock: Clock | None = None) -> "Store":
        database = Database(path, clock) if clock else Database(path)
        return cls(
            database=database,
            responses=Responses(database),
            subscriptions=Subscriptions(database),
            limits=Limits(database),
            outbox=Outbox(database),
            retention=Retention(database),
            workouts=Workouts(database),
        )

    def close(self) -> None:
        self.database.close()


__all__ = ["Clock", "Database", "LimitDecision", "Store"]
