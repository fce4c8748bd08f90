"""The event pipeline with the real model, the real Piper voice and a real SQLite file."""

import asyncio
import re
import time
from pathlib import Path

import pytest

from edgecoach.audio import NullSink, Player
from edgecoach.coach.checks import normalized
from edgecoach.contract import Subscription, WorkoutContext, WorkoutEvent
from edgecoach.daemon import build_parts
from edgecoach.paths import DATA_DIR
from edgecoach.pipeline import CoachingPipeline, Parts
from edgecoach.replay_coach import coach_recording
from edgecoach.session.talk_budget import TalkBudget
from edgecoach.settings import Settings, load_settings
from edgecoach.sources import WorkoutPlan, replay
from edgecoach.transcript import Transcript, read_transcript

USER = "pipeline-user"
SCRIPT = DATA_DIR / "recordings" / "strength-session.jsonl"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data")


@pytest.fixture
async def parts(settings: Settings):
    built = build_parts(settings, player=Player(NullSink()))
    built.devices.has_earbuds = True
    built.store.subscriptions.put(Subscription(user_id=USER, subscription_type="trainer",
                                               preferred_persona="aiden"))
    await built.player.start()
    yield built
    await built.player.close()
    built.store.close()


def numbers(text: str) -> set[str]:
    return set(re.findall(r"\d+(?:\.\d+)?", text))


def context_numbers(context: WorkoutContext) -> set[str]:
    values = [v for v in context.model_dump().values() if isinstance(v, int | float)
              and not isinstance(v, bool)]
    return {f"{v:g}" for v in values} | {str(round(v)) for v in values}


async def test_a_replayed_workout_is_coached_and_stored(parts: Parts, settings: Settings,
                                                         tmp_path: Path) -> None:
    transcript = Transcript(tmp_path / "transcript.jsonl")
    pipeline = CoachingPipeline(parts, transcript)
    report = await coach_recording(pipeline, settings, SCRIPT, USER, speed=0)
    await pipeline.close()
    transcript.close()
    assert report.outcomes and all(o.status in ("spoken", "suppressed") for o in report.outcomes)
    assert all(o.reason for o in report.outcomes if o.status == "suppressed")
    stored = parts.store.responses.recent(USER, 1000)
    assert len(stored) == len(report.spoken) >= 10
    for response in stored:  # every number said comes from the event
        assert numbers(response.text_content) <= context_numbers(response.workout_context), \
            response.text_content
        assert len(response.toast_message) <= 60
    entries = read_transcript(tmp_path / "transcript.jsonl")
    assert [e["trigger"] for e in entries] == [o.event.trigger_id for o in report.outcomes]
    assert entries[-1]["trigger"] == "workout-end" and entries[-1]["status"] == "spoken"


async def test_the_next_set_is_prepared_during_rest(parts: Parts) -> None:
    pipeline = CoachingPipeline(parts)
    squat = {"exercise": "squat", "reps": 5, "weight": 80}

    def event(trigger: str, number: int, at: float, **extra: object) -> WorkoutEvent:
        return WorkoutEvent(trigger_id=trigger, user_id=USER, timestamp=at,
                            context=WorkoutContext(**squat, set_number=number, **extra))

    await pipeline.handle(event("set-start", 1, 1000))
    await pipeline.handle(event("set-end", 1, 1060, rest_seconds=90, heart_rate=150))
    await pipeline._speculation  # the rest: the daemon keeps handling events meanwhile
    start = await pipeline.handle(event("set-start", 2, 1150))
    assert start.status == "spoken" and start.prepared and start.spoken.cache_hit
    await pipeline.close()


async def test_a_prepared_hit_takes_one_hop_off_the_event_loop(
        parts: Parts, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a busy machine each hop to a worker thread waits for the thread: a hit's
    decision and its opened clip come back in one."""
    pipeline = CoachingPipeline(parts)
    squat = WorkoutContext(exercise="squat", reps=5, weight=80, set_number=1, total_sets=2)
    await pipeline.expect(WorkoutPlan(USER, (("set-start", squat),)))
    await rest(pipeline)
    real_to_thread, enqueue, hops = asyncio.to_thread, parts.player.enqueue, []

    async def to_thread(function, *args, **kwargs):
        hops.append(getattr(function, "__name__", repr(function)))
        return await real_to_thread(function, *args, **kwargs)

    def enqueued(line, priority: int = 0, label: str = "") -> None:
        hops.append(f"enqueue {label}")
        enqueue(line, priority=priority, label=label)

    monkeypatch.setattr(asyncio, "to_thread", to_thread)
    monkeypatch.setattr(parts.player, "enqueue", enqueued)
    outcome = await pipeline.handle(WorkoutEvent(trigger_id="set-start", user_id=USER,
                                                 context=squat, timestamp=1000))
    await pipeline.close()
    assert outcome.prepared and outcome.spoken.cache_hit
    assert hops.index("enqueue set-start") == 1, hops


async def rest(pipeline: CoachingPipeline) -> None:
    """The athlete rests: the lines being prepared are finished."""
    if pipeline._speculation:
        await pipeline._speculation


async def test_every_set_of_a_planned_workout_is_a_prepared_cache_hit(parts: Parts) -> None:
    TalkBudget(parts.store.database).set_chattiness(USER, "chatty")  # every set line speaks
    pipeline = CoachingPipeline(parts)
    start, outcomes = time.time(), []
    async for item in replay(SCRIPT, USER, speed=0):
        if isinstance(item.payload, WorkoutPlan):
            await pipeline.expect(item.payload)
        elif isinstance(item.payload, WorkoutEvent):
            await rest(pipeline)
            event = item.payload.model_copy(update={"timestamp": start + item.offset})
            outcomes.append(await pipeline.handle(event))
    await pipeline.close()
    sets = [o for o in outcomes if o.event.trigger_id in ("set-start", "set-end")]
    assert len(sets) == 22 and all(o.status == "spoken" for o in sets)
    # The plan knows each next set, reps, weight, rest and last set included; the first
    # set is prepared from the plan before the workout starts.
    assert all(o.prepared and o.spoken.cache_hit for o in sets), [
        (o.event.trigger_id, o.event.context.exercise, o.event.context.set_number)
        for o in sets if not (o.prepared and o.spoken.cache_hit)]
    for outcome in sets:
        assert numbers(outcome.response.text_content) <= context_numbers(outcome.event.context)


async def test_a_set_done_otherwise_than_planned_gets_its_own_line(parts: Parts) -> None:
    pipeline = CoachingPipeline(parts)
    planned = WorkoutContext(exercise="squat", reps=5, weight=80, set_number=1, total_sets=1,
                             last_set=True)
    planned_end = planned.model_copy(update={"rest_seconds": 0})
    await pipeline.expect(WorkoutPlan(USER, (("set-start", planned), ("set-end", planned_end))))
    await rest(pipeline)
    start = await pipeline.handle(WorkoutEvent(trigger_id="set-start", user_id=USER,
                                               context=planned, timestamp=1000))
    assert start.prepared and start.spoken.cache_hit
    await rest(pipeline)
    done = planned_end.model_copy(update={"reps": 4, "duration_seconds": 20, "heart_rate": 150})
    end = await pipeline.handle(WorkoutEvent(trigger_id="set-end", user_id=USER, context=done,
                                             timestamp=1040))
    await pipeline.close()
    assert end.status == "spoken" and not end.prepared  # the line for 5 reps is not said
    assert numbers(end.response.text_content) <= context_numbers(done)


async def test_a_line_under_way_is_not_lost_to_a_newer_event(
        parts: Parts, monkeypatch: pytest.MonkeyPatch) -> None:
    """Set 1 starts while its end is being prepared: that line is finished, then used."""
    real_prepare, calls = parts.voice.prepare, []
    held, release = asyncio.Event(), asyncio.Event()

    async def prepare(persona: str, texts: list[str]) -> int:
        calls.append(texts)
        if len(calls) == 2:  # set 1's end, after its start
            held.set()
            await release.wait()
        return await real_prepare(persona, texts)

    monkeypatch.setattr(parts.voice, "prepare", prepare)
    pipeline = CoachingPipeline(parts)
    first = WorkoutContext(exercise="squat", reps=5, weight=80, set_number=1, total_sets=2)
    second = first.model_copy(update={"set_number": 2, "last_set": True})
    await pipeline.expect(WorkoutPlan(USER, (
        ("set-start", first), ("set-end", first.model_copy(update={"rest_seconds": 90})),
        ("set-start", second), ("set-end", second.model_copy(update={"rest_seconds": 0})))))
    await held.wait()
    start = await pipeline.handle(WorkoutEvent(trigger_id="set-start", user_id=USER,
                                               context=first, timestamp=1000))
    release.set()
    await rest(pipeline)
    end = await pipeline.handle(WorkoutEvent(
        trigger_id="set-end", user_id=USER, timestamp=1040,
        context=first.model_copy(update={"rest_seconds": 90, "heart_rate": 140})))
    await pipeline.close()
    assert start.prepared and end.prepared and end.spoken.cache_hit


async def test_a_denied_tts_request_is_recorded_not_lost(parts: Parts) -> None:
    parts.store.subscriptions.put(Subscription(user_id=USER, subscription_type="free"))
    for _ in range(20):
        parts.store.limits.try_acquire(USER, "tts_generation", "free", 100)
    pipeline = CoachingPipeline(parts, speculate=False)
    outcome = await pipeline.handle(WorkoutEvent(trigger_id="workout-end", user_id=USER,
                                                 context=WorkoutContext(total_sets=3)))
    assert outcome.status == "suppressed" and outcome.reason == "tts limit reached"
    assert parts.store.responses.event_counts(USER) == {"suppressed": 1}
    assert "tts_generation limit" in parts.store.limits.denials(USER)[-1]["reason"]


async def test_a_plan_handed_to_the_daemon_prepares_its_first_set(parts: Parts,
                                                                  settings: Settings) -> None:
    from edgecoach.daemon import Daemon
    from edgecoach.sources.script import ScriptSet, plan_of_sets

    daemon = Daemon(settings, parts)
    plan = plan_of_sets(USER, (ScriptSet(exercise="deadlift", reps=3, weight=120, rest=180),))
    await daemon.route(plan)  # what POST /v1/workouts/plan queues
    await rest(daemon.pipeline)
    planned = plan.events[0][1]
    outcome = await daemon.pipeline.handle(WorkoutEvent(
        trigger_id="set-start", user_id=USER, context=planned, timestamp=time.time()))
    await daemon.pipeline.close()
    assert outcome.prepared and outcome.spoken.cache_hit


class Heard:
    """A speaker double at the library boundary: what it played, label and samples."""

    name = "heard"

    def __init__(self) -> None:
        self.played: list[tuple[str, int]] = []

    def play(self, line, label: str, stop=None) -> None:
        self.played.append((label, sum(len(piece) for piece in line.pieces())))


def set_start(number: int) -> WorkoutEvent:
    return WorkoutEvent(trigger_id="set-start", user_id=USER, timestamp=1000 + 100 * number,
                        context=WorkoutContext(exercise="squat", reps=5, weight=80,
                                               set_number=number))


@pytest.mark.parametrize("earcon_after_ms, late_ms, heard, status", [
    (60_000, 1500, ["set-start"], "spoken"),  # first audio in time: no earcon
    (0, 60_000, ["earcon", "set-start"], "spoken"),  # slow to start: the earcon, then it
    (0, 0, ["earcon"], "suppressed"),  # too late: the earcon stands in for the line
])
async def test_a_time_critical_line_slow_to_start_gets_the_earcon(
        parts: Parts, monkeypatch: pytest.MonkeyPatch, earcon_after_ms: float,
        late_ms: float, heard: list[str], status: str) -> None:
    monkeypatch.setattr("edgecoach.pipeline.EARCON_AFTER_MS", earcon_after_ms)
    monkeypatch.setattr("edgecoach.pipeline.LATE_LINE_MS", late_ms)
    speaker = Heard()
    await parts.player.close()
    parts.player = Player(speaker)
    await parts.player.start()
    pipeline = CoachingPipeline(parts, speculate=False)
    outcome = await pipeline.handle(set_start(1))
    await asyncio.wait_for(parts.player.drain(), 30)
    await pipeline.close()
    assert outcome.status == status and [label for label, _ in speaker.played] == heard
    if outcome.spoken:  # the whole streamed line was played
        assert speaker.played[-1][1] == len(outcome.spoken.audio)
    else:
        assert "earcon stood in" in (outcome.reason or "")


async def test_a_clip_prepared_for_a_deleted_user_leaves_the_cache(parts: Parts) -> None:
    pipeline = CoachingPipeline(parts)
    planned = WorkoutContext(exercise="row", reps=12, weight=40, set_number=1)
    await pipeline.expect(WorkoutPlan(USER, (("set-start", planned),)))
    await rest(pipeline)
    with parts.store.database.reading() as db:
        keys = [row[0] for row in db.execute(
            "select cacheKey from speculative_clips where userId = ?", [USER])]
    assert keys and all(parts.voice.cache.contains(key) for key in keys)

    pipeline.forget_user(USER)
    counts = parts.store.retention.delete_user(USER)
    assert counts["audio_cache"] >= len(keys)
    assert not any(parts.voice.cache.contains(key) for key in keys)
    assert pipeline._prepared == {}
    await pipeline.close()


async def test_the_device_state_an_app_reports_is_honoured(parts: Parts) -> None:
    parts.devices.has_earbuds = False  # none on the daemon's side
    pipeline = CoachingPipeline(parts, speculate=False)
    context = WorkoutContext(exercise="squat", reps=5, weight=80, set_number=1)

    def event(at: float, **state: object) -> WorkoutEvent:
        return WorkoutEvent.model_validate({
            "triggerId": "set-start", "userId": USER, "timestamp": at,
            "context": context.to_json_dict(), **({"deviceState": state} if state else {})})

    alone = await pipeline.handle(event(1000))
    assert alone.status == "suppressed" and "earbuds" in (alone.reason or "")
    phone = await pipeline.handle(event(2000, hasEarbuds=True, audioEnabled=True,
                                        platform="ios"))
    assert phone.status == "spoken", phone.reason
    stored = parts.store.responses.get(phone.response.id)
    assert stored.device_state.platform == "ios" and stored.device_state.has_earbuds
    queued_before = parts.player.queued
    muted = await pipeline.handle(event(3000, hasEarbuds=True, audioEnabled=False,
                                        platform="android"))
    assert muted.status == "suppressed" and "audioEnabled" in (muted.reason or "")
    assert muted.response is None and parts.player.queued == queued_before
    await pipeline.close()


async def test_laps_of_a_run_are_not_coached_with_one_line_again_and_again(
        parts: Parts) -> None:
    """Laps of a recorded run, one after the other (no rest): a lap's line prepared ahead
    knows no time yet, and few lines need neither rest nor time; rather than one said
    lately, the lap's own event writes its line (the demo said one line four laps
    running)."""
    parts.store.subscriptions.put(Subscription(user_id=USER, subscription_type="trainer",
                                               preferred_persona="alice"))
    TalkBudget(parts.store.database).set_chattiness(USER, "chatty")
    pipeline = CoachingPipeline(parts)
    said = []
    for lap in range(1, 6):
        run = {"exercise": "run", "set_number": lap, "total_sets": 5, "last_set": lap == 5}
        seconds = 300 + 7 * lap
        for trigger, at, extra in (
                ("set-start", 0, {}),
                ("set-end", seconds, {"duration_seconds": seconds, "heart_rate": 150})):
            await rest(pipeline)
            outcome = await pipeline.handle(WorkoutEvent(
                trigger_id=trigger, user_id=USER, timestamp=1000 + 400 * lap + at,
                context=WorkoutContext(**run, **extra)))
            if trigger == "set-end" and outcome.status == "spoken":
                said.append(normalized(outcome.response.text_content))
    await pipeline.close()
    assert len(said) == 5 and len(set(said)) == 5, said
