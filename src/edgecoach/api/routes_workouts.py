"""Workouts: the list, one workout's record, and its report page (for a companion app)."""

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import HTMLResponse

from edgecoach.api.context import ApiContext, get_context
from edgecoach.api.errors import NOT_FOUND_RESPONSE
from edgecoach.api.models import ResponsesQuery
from edgecoach.report import workout_report_html

router = APIRouter(prefix="/v1/workouts")
Context = Annotated[ApiContext, Depends(get_context)]
WorkoutIdPath = Annotated[str, Path(alias="workoutId", min_length=1, max_length=64)]


@router.get("", response_model=list[dict[str, Any]])
async def list_workouts(
    context: Context, query: Annotated[ResponsesQuery, Query()]
) -> list[dict[str, Any]]:
    """The user's workouts (id, start, end, source, summary), newest first."""
    chosen = context.user_or_default(query.user_id)
    workouts = await asyncio.to_thread(context.store.workouts.of_user, chosen, query.limit)
    return [workout.to_json_dict() for workout in workouts]


@router.get("/{workoutId}", response_model=dict[str, Any], responses=NOT_FOUND_RESPONSE)
async def get_workout(workout_id: WorkoutIdPath, context: Context) -> dict[str, Any]:
    """One workout's record and summary."""
    workout = await asyncio.to_thread(context.store.workouts.get, workout_id)
    return workout.to_json_dict()


# The page is HTML; the errors stay JSON like every other route's (so no response_class,
# which would document them as HTML too).
@router.get("/{workoutId}/report", response_model=None, responses={
    **NOT_FOUND_RESPONSE,
    200: {"content": {"text/html": {"schema": {"type": "string"}}},
          "description": "The report page"}})
async def get_workout_report(workout_id: WorkoutIdPath, context: Context) -> HTMLResponse:
    """The workout as one self-contained HTML page: chart, laps, strain, every line and
    its audio (as `edgecoach report` writes it)."""
    page = await asyncio.to_thread(workout_report_html, context.store, workout_id)
    return HTMLResponse(page)
