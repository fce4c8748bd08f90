"""A planned workout: events and heart-rate samples at offsets, played back at a speed."""

import asyncio
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass

from edgecoach.contract import WorkoutContext, WorkoutEvent
from edgecoach.contract.vocabulary import EventSource, TriggerId
from edgecoach.sources.items import HeartRateSample, ReplayItem, WorkoutPlan

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]
# With speed 0/inf nothing waits; yield to the loop this often so others still run.
YIELD_EVERY = 50


@dataclass(frozen=True)
class PlannedEvent:
    offset: float
    trigger_id: TriggerId
    context: WorkoutContext


@dataclass(frozen=True)
class PlannedSample:
    offset: float
    bpm: int


@dataclass(frozen=True)
class AnnouncedPlan:
    """The workout's plan of sets, handed over at `offset` (see items.WorkoutPlan)."""

    offset: float
    events: tuple[tuple[TriggerId, WorkoutContext], ...]


Planned = PlannedEvent | PlannedSample | AnnouncedPlan


def as_fast_as_possible(speed: float) -> bool:
    return speed == 0 or math.isinf(speed)


async def play(plan: Sequence[Planned], user_id: str, source: EventSource, *,
               speed: float = 1.0, sleep: Sleep = asyncio.sleep,
               monotonic: Clock = time.monotonic,
               wall_clock: Clock = time.time) -> AsyncIterator[ReplayItem]:
    """Yield the plan's items as they fall due (offset / speed after the start).

    Events carry the wall-clock time at which they fire, so the daemon sees a live
    workout. `sleep` and both clocks are injectable for tests in fake time.
    """
    if speed < 0 or math.isnan(speed):
        raise ValueError("speed must be 0 (as fast as possible) or positive")
    instant = as_fast_as_possible(speed)
    started = monotonic()
    for index, planned in enumerate(plan):
        if instant:
            if index % YIELD_EVERY == 0:
                await sleep(0)
        else:
            delay = planned.offset / speed - (monotonic() - started)
            if delay > 0:
                await sleep(delay)
        yield ReplayItem(offset=planned.offset, payload=_materialize(
            planned, user_id, source, wall_clock()))


def _materialize(planned: Planned, user_id: str, source: EventSource,
                 now: float) -> WorkoutEvent | HeartRateSample | WorkoutPlan:
    if isinstance(planned, PlannedSample):
        return HeartRateSample(bpm=planned.bpm, timestamp=now, source=source)
    if isinstance(planned, AnnouncedPlan):
        return WorkoutPlan(user_id=user_id, events=planned.events)
    return WorkoutEvent(trigger_id=planned.trigger_id, user_id=user_id,
                        context=planned.context, timestamp=now, source=source)
