"""Which set events speculative synthesis prepares: from the plan, else from the sets so far."""

from edgecoach.contract import WorkoutContext, WorkoutEvent
from edgecoach.forecast import SetForecast
from edgecoach.sources import WorkoutPlan

USER = "forecast-user"


def context(exercise: str, number: int, total: int, **extra: object) -> WorkoutContext:
    return WorkoutContext(exercise=exercise, set_number=number, total_sets=total,
                          last_set=number == total, **extra)


def event(trigger: str, ctx: WorkoutContext) -> WorkoutEvent:
    return WorkoutEvent(trigger_id=trigger, user_id=USER, context=ctx)


def pyramid() -> list[tuple[str, WorkoutContext]]:
    """Squat 8 x 60 then 5 x 80, then a bench press set: reps and weight change."""
    sets = [context("squat", 1, 2, reps=8, weight=60), context("squat", 2, 2, reps=5, weight=80),
            context("bench press", 1, 1, reps=6, weight=50)]
    rests = [90, 120, 0]
    return [step for ctx, rest in zip(sets, rests, strict=True) for step in (
        ("set-start", ctx),
        ("set-end", ctx.model_copy(update={"rest_seconds": rest, "duration_seconds": 24.0})))]


def test_the_plan_gives_the_next_sets_as_planned() -> None:
    plan = pyramid()
    forecast = SetForecast()
    first = forecast.expect(WorkoutPlan(USER, tuple(plan)))
    assert forecast.after(event("pre-start", WorkoutContext(exercise="squat"))) == first
    assert [trigger for trigger, _ in first] == ["set-start", "set-end"]
    assert first[0][1] == plan[0][1]
    # What is measured during the set (its duration) is not forecast.
    assert first[1][1].duration_seconds is None and first[1][1].rest_seconds == 90
    after_end = forecast.after(event(*plan[1]))
    assert [(t, c.set_number, c.reps, c.weight) for t, c in after_end] == [
        ("set-start", 2, 5, 80), ("set-end", 2, 5, 80)]
    after_start = forecast.after(event(*plan[2]))
    assert [(t, c.exercise) for t, c in after_start] == [
        ("set-end", "squat"), ("set-start", "bench press")]
    # After the last squat, the plan knows the next exercise.
    assert forecast.after(event(*plan[3]))[0] == ("set-start", plan[4][1])
    assert forecast.after(event(*plan[5])) == []


def test_pre_start_and_off_plan_sets_are_guessed() -> None:
    forecast = SetForecast()
    first = forecast.after(event("pre-start", WorkoutContext(exercise="run", total_sets=3)))
    assert first == [("set-start", WorkoutContext(exercise="run", set_number=1)),
                     ("set-end", WorkoutContext(exercise="run", set_number=1))]
    forecast.expect(WorkoutPlan(USER, tuple(pyramid())))
    extra = context("lunge", 1, 2, reps=10)
    assert forecast.after(event("set-end", extra)) == [
        ("set-start", context("lunge", 2, 2, reps=10)),
        ("set-end", context("lunge", 2, 2, reps=10))]


def test_the_guess_knows_the_last_set_from_the_total() -> None:
    forecast = SetForecast()
    forecast.after(event("set-start", context("run", 1, 2)))
    upcoming = forecast.after(event("set-end", context("run", 1, 2, heart_rate=150)))
    assert [(t, c.set_number, c.last_set, c.heart_rate) for t, c in upcoming] == [
        ("set-start", 2, True, None), ("set-end", 2, True, None)]
    assert forecast.after(event("set-start", context("run", 2, 2))) == [
        ("set-end", context("run", 2, 2))]
    assert forecast.after(event("set-end", context("run", 2, 2))) == []


def test_other_events_keep_the_forecast_and_the_workout_end_drops_the_plan() -> None:
    forecast = SetForecast()
    plan = pyramid()
    forecast.expect(WorkoutPlan(USER, tuple(plan)))
    assert forecast.after(event("strainsync", WorkoutContext(strain=40))) is None
    assert forecast.after(event("workout-end", WorkoutContext(total_sets=3))) == []
    guessed = forecast.after(event(*plan[0]))  # no plan now: the end is this set's start
    assert guessed[0] == ("set-end", plan[0][1])
