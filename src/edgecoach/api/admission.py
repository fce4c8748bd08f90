"""What the API accepts of a client's event beyond its schema: its source and its time.

The client's clock is not trusted. An event dated ahead of the daemon's clock takes the
daemon's time (no event is ever later than now), so a cooldown, the talk budget or the
retention purge cannot be pushed into the future by a wrong or hostile clock; an event
more than a day ahead is refused as a mistake. An event more than a day old is refused
unless the client marks it as a replay (`source: "replay"`), which keeps its workout time.
"""

from typing import get_args

from edgecoach.contract import WorkoutEvent
from edgecoach.contract.vocabulary import EventSource
from edgecoach.errors import ValidationFailed

CLOCK_WINDOW_SECONDS = 24 * 3600
# "ble", "script", "cli" and "demo" are said only by the daemon's own sources.
API_SOURCES: tuple[str, ...] = ("api", "replay")
DAEMON_SOURCES = tuple(source for source in get_args(EventSource) if source not in API_SOURCES)


def admit_event(event: WorkoutEvent, now: float) -> WorkoutEvent:
    """`event` as the daemon will coach and store it, or ValidationFailed naming the field."""
    if event.source not in API_SOURCES:
        raise ValidationFailed("source", f"must be {' or '.join(API_SOURCES)} from the API "
                                         f"({', '.join(DAEMON_SOURCES)} are the daemon's own)")
    if event.timestamp > now + CLOCK_WINDOW_SECONDS:
        raise ValidationFailed("timestamp", "more than 24 h ahead of the daemon's clock")
    if event.source == "api" and event.timestamp < now - CLOCK_WINDOW_SECONDS:
        raise ValidationFailed("timestamp", "more than 24 h old: send a past workout's "
                                            'events with source "replay"')
    if event.timestamp > now:
        return event.model_copy(update={"timestamp": now})
    return event
