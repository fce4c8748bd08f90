"""Events in, responses and feedback out, and the daemon's status."""

import asyncio
import time
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, status

from edgecoach.api.admission import admit_event
from edgecoach.api.bodies import strict_body
from edgecoach.api.context import ApiContext, get_context
from edgecoach.api.errors import BAD_BODY_RESPONSE, NOT_FOUND_RESPONSE
from edgecoach.api.models import (
    ApiEvent,
    EventAccepted,
    PlanAccepted,
    PlanRequest,
    ResponsesQuery,
    StatusQuery,
    StatusReport,
)
from edgecoach.contract import Feedback, VoiceResponse
from edgecoach.feedback import give_feedback
from edgecoach.sources.script import plan_of_sets

router = APIRouter(prefix="/v1")
Context = Annotated[ApiContext, Depends(get_context)]


@router.post("/events", status_code=status.HTTP_202_ACCEPTED, response_model=EventAccepted,
             responses=BAD_BODY_RESPONSE)
async def post_event(event: ApiEvent, request: Request, context: Context) -> EventAccepted:
    """Queue a workout event from the companion app; the daemon stores and coaches it."""
    admitted = admit_event(await strict_body(request, event), time.time())
    await context.daemon.submit(admitted)
    return EventAccepted(event_id=admitted.id)


@router.post("/workouts/plan", status_code=status.HTTP_202_ACCEPTED,
             response_model=PlanAccepted, responses=BAD_BODY_RESPONSE)
async def post_plan(plan: PlanRequest, request: Request, context: Context) -> PlanAccepted:
    """Hand over the sets of a workout about to start: their lines are prepared during the
    rests, so each set-start and set-end is spoken without waiting for synthesis."""
    plan = await strict_body(request, plan)
    planned = plan_of_sets(plan.user_id, tuple(plan.sets))
    await context.daemon.submit(planned)
    return PlanAccepted(user_id=plan.user_id, planned_events=len(planned.events))


@router.post("/responses/{id}/feedback", response_model=VoiceResponse,
             responses={**NOT_FOUND_RESPONSE, **BAD_BODY_RESPONSE})
async def post_feedback(
    feedback: Feedback,
    request: Request,
    context: Context,
    response_id: Annotated[str, Path(alias="id", min_length=1, max_length=64)],
) -> VoiceResponse:
    """Rate a spoken line (1-5); it becomes training data and goes upstream when allowed."""
    feedback = await strict_body(request, feedback)
    return await asyncio.to_thread(give_feedback, context.store, response_id, feedback)


@router.get("/responses", response_model=list[VoiceResponse])
async def list_responses(
    context: Context, query: Annotated[ResponsesQuery, Query()]
) -> list[VoiceResponse]:
    """The user's most recent spoken lines, newest first."""
    chosen = context.user_or_default(query.user_id)
    return await asyncio.to_thread(context.store.responses.recent, chosen, query.limit)


@router.get("/status", response_model=StatusReport)
async def get_status(context: Context, query: Annotated[StatusQuery, Query()]) -> StatusReport:
    """Daemon state, what the user's limits leave for now and today, and unsent items."""
    daemon_status = context.daemon.status()
    chosen = query.user_id or context.user_id
    store = context.store

    def read() -> tuple[dict[str, int] | None, int]:
        remaining = None
        if chosen is not None:
            subscription = store.subscriptions.get(chosen)
            remaining = store.limits.remaining(
                chosen, subscription.subscription_type,
                subscription.device_preferences.max_daily_coaching)
        return remaining, store.outbox.pending_count()

    remaining, pending = await asyncio.to_thread(read)
    return StatusReport(daemon=daemon_status, user_id=chosen, limits_remaining=remaining,
                        outbox_pending=pending)
