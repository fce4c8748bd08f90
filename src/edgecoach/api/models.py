"""Request and response bodies of the API that are not entities of the contract."""

import time
from typing import Annotated, Any, Literal

from fastapi import Path, Request
from pydantic import Field

from edgecoach.api.port import TalkDirection
from edgecoach.contract import WorkoutEvent
from edgecoach.contract.base import CamelModel
from edgecoach.errors import ValidationFailed
from edgecoach.sources.script import ScriptSet

# The contract's bounds on a user id, applied to path and query parameters too.
UserIdPath = Annotated[str, Path(alias="userId", min_length=1, max_length=128)]
MAX_LIST_LIMIT = 200
DEFAULT_LIST_LIMIT = 20


class StatusQuery(CamelModel):
    """Query of /v1/status; an unknown parameter is an error, like an unknown body field."""

    user_id: str | None = Field(default=None, min_length=1, max_length=128,
                                description="Defaults to the daemon's athlete")


class ResponsesQuery(StatusQuery):
    limit: int = Field(default=DEFAULT_LIST_LIMIT, ge=1, le=MAX_LIST_LIMIT)


def reject_repeated_query_parameters(request: Request) -> None:
    """Every query parameter of this API is single-valued: `?userId=a&userId=b` is an error,
    not a silent pick of one of them."""
    seen: set[str] = set()
    for key, _ in request.query_params.multi_items():
        if key in seen:
            raise ValidationFailed(f"query.{key}", "given more than once")
        seen.add(key)


class ApiEvent(WorkoutEvent):
    """A workout event as the companion app may send it: the daemon's own sources ("ble",
    "script", "cli", "demo") cannot be claimed, and its time is checked against the
    daemon's clock (see api/admission.py)."""

    source: Literal["api", "replay"] = Field(
        default="api", description='"replay" for a past workout\'s events (kept in workout '
        'time; needed beyond 24 h old)')
    timestamp: float = Field(
        default_factory=time.time, ge=0,
        description="Unix seconds; within 24 h of the daemon's clock unless a replay; a time "
        "ahead of the daemon's clock is replaced by the daemon's")

    def as_workout_event(self) -> WorkoutEvent:
        return WorkoutEvent.model_validate(self.model_dump())


class EventAccepted(CamelModel):
    """The event is on the daemon's queue; its outcome shows in /v1/responses."""

    event_id: str


class StatusReport(CamelModel):
    daemon: dict[str, Any] = Field(description="What the daemon reports (queue, devices, sync)")
    user_id: str | None = None
    limits_remaining: dict[str, int] | None = Field(
        default=None, description="coachingPerHour, ttsPerHour, coachingToday")
    outbox_pending: int = Field(ge=0)


MAX_PLANNED_SETS = 200


class PlanRequest(CamelModel):
    """The sets a workout about to start is planned to have, in order: consecutive sets of
    one exercise form a block numbered 1..n (the fields of a strength script line)."""

    user_id: str = Field(min_length=1, max_length=128)
    sets: list[ScriptSet] = Field(min_length=1, max_length=MAX_PLANNED_SETS)


class PlanAccepted(CamelModel):
    """The daemon prepares the coming sets' lines from the plan until workout-end."""

    user_id: str
    planned_events: int = Field(ge=0, description="set-start and set-end events planned")


class TalkRequest(CamelModel):
    direction: TalkDirection


class UserDeleted(CamelModel):
    user_id: str
    deleted: dict[str, int] = Field(description="Rows removed, by table")
