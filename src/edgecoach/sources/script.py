"""Strength-workout scripts: JSON lines, one set per line.

    {"exercise": "back squat", "reps": 5, "weight": 100, "rest": 120}
    {"exercise": "back squat", "reps": 5, "weight": 100, "rest": 120, "duration": 25}

`weight` is kg (0 or absent for bodyweight), `rest` the seconds of rest after the set,
`duration` the seconds the set takes (default SECONDS_PER_REP per rep). Consecutive
lines with the same exercise form a block: their sets are numbered 1..n, and the last
one is `lastSet`. Blank lines are skipped. The script is the workout's plan too: it is
announced before `pre-start`, as a companion app hands over its template of sets.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from edgecoach.contract import WorkoutContext, parse
from edgecoach.contract.base import CamelModel, describe_validation_error
from edgecoach.errors import RecordingError, ValidationFailed
from edgecoach.sources.items import WorkoutPlan
from edgecoach.sources.timeline import AnnouncedPlan, Planned, PlannedEvent

SCRIPT_SUFFIXES = {".jsonl", ".ndjson"}
SECONDS_PER_REP = 3.0
LEAD_IN_SECONDS = 10.0
MAX_SCRIPT_BYTES = 1024 * 1024


class ScriptSet(CamelModel):
    """One line of a strength script."""

    exercise: str = Field(min_length=1, max_length=64)
    reps: int = Field(ge=1, le=1000)
    weight: float = Field(default=0, ge=0, le=1000)
    rest: int = Field(default=0, ge=0, le=3600)
    duration: float | None = Field(default=None, gt=0, le=3600)

    @property
    def seconds(self) -> float:
        return self.duration if self.duration is not None else self.reps * SECONDS_PER_REP


@dataclass(frozen=True)
class Script:
    path: Path
    sets: tuple[ScriptSet, ...]


def read_script(path: Path) -> Script:
    """Parse a script; RecordingError naming the line and field of the first problem."""
    try:
        if path.stat().st_size > MAX_SCRIPT_BYTES:
            raise RecordingError(f"{path}: too large for a workout script")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RecordingError(f"{path}: cannot read: {error}") from None
    sets = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            sets.append(parse(ScriptSet, json.loads(line)))
        except json.JSONDecodeError as error:
            raise RecordingError(f"{path}:{number}: not JSON ({error.msg})") from None
        except RecursionError:
            raise RecordingError(f"{path}:{number}: JSON nested too deeply") from None
        except ValidationFailed as error:
            raise RecordingError(f"{path}:{number}: {error}") from None
    if not sets:
        raise RecordingError(f"{path}: no sets in the script")
    return Script(path=path, sets=tuple(sets))


def plan_script(script: Script) -> list[Planned]:
    """The plan of sets announced, pre-start, then set-start/set-end per line with rests
    between, then workout-end.

    A script whose totals leave the contract's ranges (over 24 h, volume over 1,000 t)
    is a RecordingError.
    """
    try:
        sets, end = _set_steps(script.sets)  # over 1,000 sets of one exercise fails here
        workout_end = PlannedEvent(end, "workout-end", WorkoutContext(
            exercise=script.sets[-1].exercise, total_sets=len(script.sets),
            duration_seconds=end,
            volume=sum(done.reps * done.weight for done in script.sets)))
    except ValidationError as error:
        raise RecordingError(f"{script.path}: {describe_validation_error(error)}") from None
    pre_start = PlannedEvent(0.0, "pre-start", WorkoutContext(
        exercise=script.sets[0].exercise, total_sets=len(script.sets)))
    announced = tuple((step.trigger_id, step.context) for step in sets)
    return [AnnouncedPlan(0.0, announced), pre_start, *sets, workout_end]


def plan_of_sets(user_id: str, sets: tuple[ScriptSet, ...]) -> WorkoutPlan:
    """The set events a list of sets brings (what a companion app hands over)."""
    steps, _ = _set_steps(sets)
    return WorkoutPlan(user_id, tuple((step.trigger_id, step.context) for step in steps))


def _set_steps(sets: tuple[ScriptSet, ...]) -> tuple[list[PlannedEvent], float]:
    """set-start and set-end of each line with the rests between, and the end time.

    A script line's bounds are within the contract's: only a block of over 1,000 sets
    fails (ValidationError).
    """
    steps: list[PlannedEvent] = []
    clock = LEAD_IN_SECONDS
    for index, (done, (number, block_size)) in enumerate(zip(sets, _block_positions(sets),
                                                             strict=True)):
        common: dict[str, Any] = {
            "exercise": done.exercise, "reps": done.reps, "weight": done.weight,
            "set_number": number, "total_sets": block_size, "last_set": number == block_size}
        steps.append(PlannedEvent(clock, "set-start", WorkoutContext(**common)))
        clock += done.seconds
        last = index == len(sets) - 1
        steps.append(PlannedEvent(clock, "set-end", WorkoutContext(
            **common, rest_seconds=0 if last else done.rest, duration_seconds=done.seconds)))
        if not last:
            clock += done.rest
    return steps, clock


def _block_positions(sets: tuple[ScriptSet, ...]) -> list[tuple[int, int]]:
    """(set number within its block, block size) for each line."""
    positions: list[tuple[int, int]] = []
    start = 0
    for index in range(1, len(sets) + 1):
        if index == len(sets) or sets[index].exercise != sets[start].exercise:
            size = index - start
            positions.extend((number, size) for number in range(1, size + 1))
            start = index
    return positions
