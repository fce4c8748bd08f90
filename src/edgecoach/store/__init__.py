"""The SQLite store: one file, one connection, one small class per concern."""

import time
from dataclasses import dataclass
from pathlib import Path

from edgecoach.store.database import Clock, Database
from edgecoach.store.erasures import Erasures
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
    erasures: Erasures
    workouts: Workouts

    @classmethod
    def open(cls, path: Path | str, clock: Clock | None = None,
             quarantine_corrupt: bool = False) -> "Store":
        """`quarantine_corrupt` (the daemon's start): check the file first, and move a
        corrupt one aside (StoreError) rather than write over it."""
        database = Database(path, clock or time.time, quarantine_corrupt)
        return cls(
            database=database,
            responses=Responses(database),
            subscriptions=Subscriptions(database),
            limits=Limits(database),
            outbox=Outbox(database),
            retention=Retention(database),
            erasures=Erasures(database),
            workouts=Workouts(database),
        )

    def close(self) -> None:
        self.database.close()


__all__ = ["Clock", "Database", "LimitDecision", "Store"]
