"""Which set events come next: the lines speculative synthesis prepares while the athlete rests.

From the workout's plan when one was handed over (a companion app's template of sets, a
script replay's script); otherwise guessed: the next set like the last one of its
exercise, numbered on. Only what is known before a set happens is forecast; what is
measured during it (heart rate, duration) is left out, so a line written for a forecast
never claims it.
"""

from dataclasses import dataclass

from edgecoach.contract import TriggerId, WorkoutContext, WorkoutEvent
from edgecoach.sources.items import WorkoutPlan

# Context fields known before a set happens (the plan); the rest is measured during it.
PREDICTABLE_FIELDS = ("exercise", "reps", "weight", "set_number", "total_sets",
                      "rest_seconds", "last_set")
# Set events prepared ahead: after set n ends, set n+1's start and end; after set n
# starts, its end and set n+1's start. Further ahead would write a line before the
# lines it must not repeat are said.
LOOKAHEAD = 2
SET_TRIGGERS: tuple[TriggerId, ...] = ("set-start", "set-end")

Forecast = list[tuple[TriggerId, WorkoutContext]]  # nearest first


def predictable_part(context: WorkoutContext) -> WorkoutContext:
    return WorkoutContext(**{name: getattr(context, name) for name in PREDICTABLE_FIELDS})


def numbered(context: WorkoutContext, number: int) -> WorkoutContext:
    """`context` as set `number`: the last set when its exercise has that many."""
    return context.model_copy(update={"set_number": number,
                                      "last_set": number == context.total_sets})


@dataclass
class _Plan:
    events: Forecast
    position: int = 0  # of the next planned event

    def after(self, trigger_id: TriggerId, context: WorkoutContext) -> Forecast | None:
        """The planned events after this one; None when it is not (or no longer) planned."""
        if trigger_id == "pre-start":
            self.position = 0
        else:
            found = next((index for index in range(self.position, len(self.events))
                          if self._is(index, trigger_id, context)), None)
            if found is None:
                return None
            self.position = found + 1
        return self.events[self.position:self.position + LOOKAHEAD]

    def _is(self, index: int, trigger_id: TriggerId, context: WorkoutContext) -> bool:
        planned_trigger, planned = self.events[index]
        return planned_trigger == trigger_id and (planned.exercise, planned.set_number) == (
            context.exercise, context.set_number)


class SetForecast:
    """The likely next set events of each user, from the plan or from the sets so far."""

    def __init__(self) -> None:
        self._plans: dict[str, _Plan] = {}
        self._latest: dict[tuple[str, str], WorkoutContext] = {}

    def expect(self, plan: WorkoutPlan) -> Forecast:
        """Follow `plan` until its workout ends; returns its first set events."""
        events = [(trigger_id, predictable_part(context)) for trigger_id, context in plan.events]
        self._plans[plan.user_id] = _Plan(events)
        return events[:LOOKAHEAD]

    def after(self, event: WorkoutEvent) -> Forecast | None:
        """The set events likely after `event`; None when it does not move the workout on."""
        user_id, trigger_id = event.user_id, event.trigger_id
        if trigger_id == "workout-end":
            self._forget(user_id)
            return []
        if trigger_id != "pre-start" and trigger_id not in SET_TRIGGERS:
            return None
        current = predictable_part(event.context)
        if trigger_id != "pre-start":
            self._latest[(user_id, trigger_id)] = current
        plan = self._plans.get(user_id)
        planned = plan.after(trigger_id, current) if plan else None
        return planned if planned is not None else self._guess(user_id, trigger_id, current)

    def _guess(self, user_id: str, trigger_id: TriggerId,
               current: WorkoutContext) -> Forecast:
        """With no plan: set n+1 as set n; a set's end as its start with the last rest."""
        if trigger_id == "pre-start":  # its total may count the whole workout: left out
            first = WorkoutContext(exercise=current.exercise, set_number=1,
                                   last_set=current.total_sets == 1)
            return [("set-start", first), ("set-end", first)]
        if current.set_number is None:
            return []
        start = self._latest_of(user_id, "set-start", current)
        end = self._latest_of(user_id, "set-end", current)
        forecast: Forecast = []
        if trigger_id == "set-start":
            forecast.append(("set-end", current.model_copy(
                update={"rest_seconds": end.rest_seconds})))
        if not current.last_set:
            following = current.set_number + 1
            forecast += [("set-start", numbered(start, following)),
                         ("set-end", numbered(end, following))]
        return forecast[:LOOKAHEAD]

    def _latest_of(self, user_id: str, trigger_id: TriggerId,
                   current: WorkoutContext) -> WorkoutContext:
        """The user's latest `trigger_id` context of this exercise, else `current`."""
        latest = self._latest.get((user_id, trigger_id))
        return latest if latest and latest.exercise == current.exercise else current

    def _forget(self, user_id: str) -> None:
        self._plans.pop(user_id, None)
        for trigger_id in SET_TRIGGERS:
            self._latest.pop((user_id, trigger_id), None)
