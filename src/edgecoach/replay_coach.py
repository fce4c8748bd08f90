"""Coach a recorded workout: replay it through the real pipeline, as the demo and the
`replay` command do, and report what was said. The workout is recorded in the store."""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from edgecoach.contract import WorkoutEvent
from edgecoach.pipeline import CoachingPipeline, Outcome
from edgecoach.session.recorder import WorkoutRecorder
from edgecoach.session.workout import WorkoutSession
from edgecoach.settings import Settings
from edgecoach.sources import HeartRateSample, StrainMeter, WorkoutPlan, replay

Progress = Callable[[float, Outcome | None], None]


@dataclass
class ReplayReport:
    outcomes: list[Outcome] = field(default_factory=list)
    duration: float = 0.0
    workout_id: str | None = None  # the workout recorded in the store

    @property
    def spoken(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.status == "spoken"]

    def summary(self) -> dict[str, object]:
        spoken = self.spoken
        hits = [o.ready_ms for o in spoken if o.spoken and o.spoken.cache_hit]
        misses = [o.ready_ms for o in spoken if o.spoken and not o.spoken.cache_hit]
        generation = [o.response.metadata.generation_latency for o in spoken if o.response]
        return {
            "events": len(self.outcomes),
            "linesSpoken": len(spoken),
            "suppressed": sum(o.status == "suppressed" for o in self.outcomes),
            "failed": sum(o.status == "failed" for o in self.outcomes),
            "cacheHits": len(hits),
            "readyMsHitP50": percentile(hits, 50), "readyMsHitP95": percentile(hits, 95),
            "readyMsMissP50": percentile(misses, 50), "readyMsMissP95": percentile(misses, 95),
            "generationMsP50": percentile(generation, 50),
            "workoutSeconds": round(self.duration, 1),
        }


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return round(ordered[index], 2)


async def coach_recording(pipeline: CoachingPipeline, settings: Settings, path: Path,
                          user_id: str, speed: float = 0.0,
                          progress: Progress | None = None) -> ReplayReport:
    """Replay `path` through `pipeline`; events carry workout time (start + offset).

    A workout plan the recording announces goes to the pipeline (speculative synthesis).
    """
    session = WorkoutSession(user_id, settings.athlete, settings.strain, live_strain=False)
    meter = StrainMeter.from_settings(settings.athlete, settings.strain)
    recorder = WorkoutRecorder(pipeline.parts.store.workouts, user_id, f"replay {path.name}",
                               settings.athlete, settings.strain)
    report = ReplayReport()
    start = time.time()
    async for item in replay(path, user_id, speed=speed, meter=meter):
        at = start + item.offset
        report.duration = item.offset
        payload = item.payload
        if isinstance(payload, WorkoutPlan):
            await pipeline.expect(payload)
            pending = []
        elif isinstance(payload, HeartRateSample):
            recorder.on_sample(payload.bpm, at)
            if recorder.flush_due:
                await asyncio.to_thread(recorder.flush)
            pending = session.on_sample(payload, at)
        else:
            pending = [payload.model_copy(update={"timestamp": at})]
        for event in pending:
            await asyncio.to_thread(recorder.on_event, event)
            outcome = await handle(pipeline, session, event, item.offset)
            await asyncio.to_thread(recorder.on_handled, event)
            report.outcomes.append(outcome)
            if progress:
                progress(item.offset, outcome)
        if progress and not pending:
            progress(item.offset, None)
    await pipeline.parts.player.drain()
    await asyncio.to_thread(recorder.finish, start + report.duration)  # no workout-end seen
    if recorder.last_finished:
        report.workout_id = recorder.last_finished.id
    return report


async def handle(pipeline: CoachingPipeline, session: WorkoutSession, event: WorkoutEvent,
                 offset: float) -> Outcome:
    session.on_event(event)
    return await pipeline.handle(event, workout_time=round(offset, 1))
