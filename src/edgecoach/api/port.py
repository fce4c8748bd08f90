"""What the HTTP API needs from the running daemon (edgecoach.daemon.Daemon implements it)."""

from typing import Any, Literal, Protocol

from edgecoach.contract import WorkoutEvent
from edgecoach.sources.items import WorkoutPlan

TalkDirection = Literal["less", "more"]


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

    def forget_user(self, user_id: str) -> None:
        """Drop what is held in memory for an erased user (lines prepared, clips)."""
        ...
