"""What the HTTP API needs from the running daemon, and an in-memory implementation."""

import asyncio
from collections.abc import Callable
from typing import Any, Literal, Protocol

from edgecoach.contract import WorkoutEvent
from edgecoach.errors import Busy
from edgecoach.sources.items import WorkoutPlan

TalkDirection = Literal["less", "more"]

# Chattiness steps a user can move through with "talk less" / "talk more".
CHATTINESS_MIN = -2
CHATTINESS_MAX = 2


class DaemonPort(Protocol):
    """The daemon as the API sees it: a queue to feed, a status to read, a dial to turn."""

    async def submit(self, item: WorkoutEvent | WorkoutPlan) -> None:
        """Put a validated event or plan on the daemon's queue; Busy when it is full."""
        ...

    def status(self) -> dict[str, Any]:
        """JSON-ready daemon state: earbuds, sources, queue sizes, last sync (cheap, no I/O)."""
        ...

    async def talk(self, user_id: str, direction: TalkDirection) -> dict[str, Any]:
        """Make the coach say less or more for `user_id`; returns the new setting."""
        ...


class QueueDaemonPort:
    """A DaemonPort over an asyncio.Queue, for tests and for the daemon itself.

    `extra_status` lets the daemon add what only it knows (earbuds, sources, last sync).
    The chattiness dial lives in memory until the coach policy owns a persisted setting.
    """

    def __init__(
        self,
        queue: asyncio.Queue,
        extra_status: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self.queue = queue
        self.extra_status = extra_status
        self.chattiness: dict[str, int] = {}

    async def submit(self, item: WorkoutEvent | WorkoutPlan) -> None:
        # Never wait on a full queue inside a request: the client is told to retry instead.
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            raise Busy(f"event queue is full ({self.queue.maxsize} items)") from None

    def status(self) -> dict[str, Any]:
        status: dict[str, Any] = {
            "queueSize": self.queue.qsize(),
            "queueMaxSize": self.queue.maxsize or None,
        }
        if self.extra_status is not None:
            status.update(self.extra_status())
        return status

    async def talk(self, user_id: str, direction: TalkDirection) -> dict[str, Any]:
        step = 1 if direction == "more" else -1
        level = self.chattiness.get(user_id, 0) + step
        level = max(CHATTINESS_MIN, min(CHATTINESS_MAX, level))
        self.chattiness[user_id] = level
        return {"userId": user_id, "direction": direction, "chattiness": level}
