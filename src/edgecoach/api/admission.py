"""What the API accepts of a client's event beyond its schema: its source and its time.

The client's clock is not trusted. An event dated ahead of the daemon's clock takes the
daemon's time (no event is ever later than now), so a cooldown, the talk budget or the
retention purge cannot be pushed into the future by a wrong or hostile clock; an event
more than a day ahead is refused as a mistake. An event more than a day old is refused
unless the client marks it as a replay (`source: "replay"`), which keeps its workout time.
"""

from edgecoach.api.models import ApiEvent
from edgecoach.contract import WorkoutEvent
from edgecoach.errors import ValidationFailed

CLOCK_WINDOW_SECONDS = 24 * 3600


def admit_event(received: ApiEvent, now: float) -> WorkoutEvent:
    """`received` as the daemon will coach and store it, or ValidationFailed naming the field.

    Its source is already "api" or "replay" (ApiEvent): "ble", "script", "cli" and "demo"
    are said only by the daemon's own sources.
    """
    event = received.as_workout_event()
    if event.timestamp > now + CLOCK_WINDOW_SECONDS:
        raise ValidationFailed("timestamp", "more than 24 h ahead of the daemon's clock")
    if event.source == "api" and event.timestamp < now - CLOCK_WINDOW_SECONDS:
        raise ValidationFailed("timestamp", "more than 24 h old: send a past workout's "
                                            'events with source "replay"')
    if event.timestamp > now:
        return event.model_copy(update={"timestamp": now})
    return event
