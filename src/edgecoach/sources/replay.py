"""Replay a recorded workout (FIT file or strength script) as a live stream of events.

FIT: session start -> `pre-start`; each lap -> `set-start` / `set-end` (lap number,
last lap, duration, average and peak heart rate); heart-rate records -> samples, fed to the
strain meter -> `strainsync` when a band is crossed; session end -> `workout-end`.
"""

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

from pydantic import ValidationError

from edgecoach.contract import WorkoutContext
from edgecoach.contract.base import describe_validation_error
from edgecoach.errors import RecordingError
from edgecoach.sources.fit import Recording, read_fit
from edgecoach.sources.items import ReplayItem
from edgecoach.sources.script import SCRIPT_SUFFIXES, plan_script, read_script
from edgecoach.sources.strain import StrainMeter
from edgecoach.sources.timeline import Clock, Planned, PlannedEvent, PlannedSample, Sleep, play

# At one offset: pre-start, then the end of a lap before the start of the next,
# then heart rate (and the strainsync it may cause); workout-end last.
RANK_PRE_START, RANK_SET_END, RANK_SET_START, RANK_SAMPLE, RANK_WORKOUT_END = range(5)


def plan_recording(recording: Recording, meter: StrainMeter) -> list[Planned]:
    """The recording's events and samples in firing order; feeds `meter` as it goes."""
    exercise, laps = recording.exercise, recording.laps
    ranked: list[tuple[float, int, Planned]] = [
        (0.0, RANK_PRE_START, PlannedEvent(0.0, "pre-start", WorkoutContext(
            exercise=exercise, total_sets=len(laps)))),
    ]
    for number, lap in enumerate(laps, start=1):
        # Devices round lap times, so a lap may end a moment after the next one starts.
        following = laps[number].start if number < len(laps) else lap.end
        end = max(lap.start, min(lap.end, following))
        ranked.append((lap.start, RANK_SET_START, PlannedEvent(lap.start, "set-start",
                       WorkoutContext(exercise=exercise, set_number=number,
                                      total_sets=len(laps), last_set=number == len(laps)))))
        ranked.append((end, RANK_SET_END, PlannedEvent(end, "set-end", WorkoutContext(
            exercise=exercise, set_number=number, total_sets=len(laps),
            duration_seconds=lap.duration, heart_rate=lap.avg_hr, peak_heart_rate=lap.max_hr,
            last_set=number == len(laps)))))
    ranked.extend((offset, RANK_SAMPLE, PlannedSample(offset, bpm))
                  for offset, bpm in recording.samples)
    ranked.sort(key=lambda entry: (entry[0], entry[1]))
    plan: list[Planned] = []
    for offset, _, planned in ranked:
        plan.append(planned)
        if isinstance(planned, PlannedSample) and meter.feed(planned.bpm, offset):
            plan.append(PlannedEvent(offset, "strainsync", WorkoutContext(
                exercise=exercise, strain=round(meter.strain, 1), heart_rate=planned.bpm)))
    end = max([recording.duration, *(offset for offset, _, _ in ranked)])
    plan.append(PlannedEvent(end, "workout-end", WorkoutContext(
        exercise=exercise, total_sets=len(laps), duration_seconds=round(end, 3),
        heart_rate=recording.avg_hr, peak_heart_rate=recording.max_hr,
        strain=round(meter.strain, 1) if recording.samples else None)))
    return plan


async def replay_fit(path: Path, user_id: str, *, speed: float = 1.0,
                     meter: StrainMeter | None = None, sleep: Sleep = asyncio.sleep,
                     monotonic: Clock = time.monotonic,
                     wall_clock: Clock = time.time) -> AsyncIterator[ReplayItem]:
    """Play a FIT recording as a live workout; RecordingError if it cannot be read.

    `speed` 1 is real time, 60 a minute per second, 0 or inf as fast as possible.
    """
    recording = await asyncio.to_thread(read_fit, Path(path))
    try:
        plan = plan_recording(recording, meter or StrainMeter())
    except ValidationError as error:  # e.g. more laps than the contract allows
        raise RecordingError(f"{path}: {describe_validation_error(error)}") from None
    async for item in play(plan, user_id, "replay", speed=speed, sleep=sleep,
                           monotonic=monotonic, wall_clock=wall_clock):
        yield item


async def replay_script(path: Path, user_id: str, *, speed: float = 1.0,
                        sleep: Sleep = asyncio.sleep, monotonic: Clock = time.monotonic,
                        wall_clock: Clock = time.time) -> AsyncIterator[ReplayItem]:
    """Play a JSON-lines strength script (see sources.script); RecordingError if invalid."""
    plan = plan_script(await asyncio.to_thread(read_script, Path(path)))
    async for item in play(plan, user_id, "script", speed=speed, sleep=sleep,
                           monotonic=monotonic, wall_clock=wall_clock):
        yield item


async def replay(path: Path, user_id: str, *, speed: float = 1.0,
                 meter: StrainMeter | None = None, sleep: Sleep = asyncio.sleep,
                 monotonic: Clock = time.monotonic,
                 wall_clock: Clock = time.time) -> AsyncIterator[ReplayItem]:
    """Replay a FIT file, or a strength script (.jsonl), by its name."""
    path = Path(path)
    if path.suffix.lower() in SCRIPT_SUFFIXES:
        items = replay_script(path, user_id, speed=speed, sleep=sleep, monotonic=monotonic,
                              wall_clock=wall_clock)
    else:
        items = replay_fit(path, user_id, speed=speed, meter=meter, sleep=sleep,
                           monotonic=monotonic, wall_clock=wall_clock)
    async for item in items:
        yield item
