"""A DaemonPort double for API tests: a queue and an in-memory dial, nothing stored.

The API's own tests mount it to check routing, auth and errors quickly; what the real
daemon does behind the API is fuzzed in tests/test_api_schema.py and driven in
tests/test_daemon.py and tests/test_supervision.py.
"""

import asyncio
from collections.abc import Callable
from typing import Any

from edgecoach.api import TalkDirection
from edgecoach.contract import WorkoutEvent
from edgecoach.errors import Busy
from edgecoach.sources.items import WorkoutPlan

# Chattiness steps a user can move through with "talk less" / "talk more".
CHATTINESS_MIN = -2
CHATTINESS_MAX = 2


class QueueDaemonPort:
    """A DaemonPort over an asyncio.Queue; `extra_status` adds to its status."""

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

    def forget_user(self, user_id: str) -> None:
        self.chattiness.pop(user_id, None)
