"""Strength scripts (JSON lines): the shipped session, timing, and clear errors."""

import asyncio
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgecoach.contract import WorkoutEvent
from edgecoach.errors import RecordingError
from edgecoach.sources import ReplayItem, WorkoutPlan, replay, replay_script
from edgecoach.sources.script import LEAD_IN_SECONDS, SECONDS_PER_REP

SHIPPED = Path(__file__).resolve().parents[1] / "data" / "recordings" / "strength-session.jsonl"


def collect(path: Path) -> list[ReplayItem]:
    async def run() -> list[ReplayItem]:
        return [item async for item in replay(path, "athlete-1", speed=0)]
    return asyncio.run(run())


def fired(path: Path) -> list[WorkoutEvent]:
    return [item.payload for item in collect(path) if isinstance(item.payload, WorkoutEvent)]


def test_the_shipped_strength_session() -> None:
    events = fired(SHIPPED)
    assert [e.trigger_id for e in events] == (
        ["pre-start"] + ["set-start", "set-end"] * 11 + ["workout-end"])
    assert all(e.source == "script" and e.user_id == "athlete-1" for e in events)
    ends = [e.context for e in events if e.trigger_id == "set-end"]
    assert [(c.exercise, c.set_number, c.total_sets, c.last_set) for c in ends[:5]] == [
        ("back squat", 1, 4, False), ("back squat", 2, 4, False), ("back squat", 3, 4, False),
        ("back squat", 4, 4, True), ("bench press", 1, 3, False)]
    assert (ends[0].reps, ends[0].weight, ends[0].rest_seconds) == (8, 60, 90)
    assert ends[-1].rest_seconds == 0 and ends[-1].weight == 0  # bodyweight, last set
    starts = [e.context for e in events if e.trigger_id == "set-start"]
    assert [c.last_set for c in starts] == [c.last_set for c in ends]
    summary = events[-1].context
    assert summary.total_sets == 11
    assert summary.volume == 8 * 60 + 2 * 5 * 80 + 5 * 85 + 8 * 50 + 2 * 6 * 60 + 2 * 10 * 50 \
        + 8 * 55


def test_the_script_is_announced_as_the_plan_before_its_events() -> None:
    items = collect(SHIPPED)
    assert items[0].offset == 0 and isinstance(items[0].payload, WorkoutPlan)
    plan = items[0].payload
    assert plan.user_id == "athlete-1"
    sets = [(e.trigger_id, e.context) for e in fired(SHIPPED)
            if e.trigger_id in ("set-start", "set-end")]
    assert list(plan.events) == sets


def test_sets_and_rests_are_placed_on_the_clock(tmp_path: Path) -> None:
    script = tmp_path / "two.jsonl"
    script.write_text('{"exercise": "deadlift", "reps": 5, "weight": 140, "rest": 180}\n\n'
                      '{"exercise": "deadlift", "reps": 3, "weight": 150, "duration": 20}\n')
    items = collect(script)[1:]  # after the plan
    offsets = [(item.payload.trigger_id, item.offset) for item in items]
    first_end = LEAD_IN_SECONDS + 5 * SECONDS_PER_REP
    assert offsets == [
        ("pre-start", 0), ("set-start", LEAD_IN_SECONDS), ("set-end", first_end),
        ("set-start", first_end + 180), ("set-end", first_end + 200),
        ("workout-end", first_end + 200)]
    assert items[-1].payload.context.duration_seconds == first_end + 200


@pytest.mark.parametrize(("text", "message"), [
    ("", "no sets"),
    ('{"exercise": "squat", "reps": 5}\n{"exercise": "squat", reps: 5}\n', ":2: not JSON"),
    ('{"exercise": "squat", "reps": 0, "weight": 100}\n', ":1: reps"),
    ('{"exercise": "squat", "reps": 5, "weight": -5}\n', ":1: weight"),
    ('{"exercise": "", "reps": 5}\n', ":1: exercise"),
    ('{"exercise": "squat", "reps": 5, "tempo": "3-1-1"}\n', ":1: tempo"),
    ('[1, 2, 3]\n', ":1:"),
    ('{"exercise": "squat", "reps": 1000, "weight": 1000}\n' * 2, "volume"),
])
def test_bad_scripts_name_line_and_field(tmp_path: Path, text: str, message: str) -> None:
    script = tmp_path / "bad.jsonl"
    script.write_text(text)
    with pytest.raises(RecordingError, match=message):
        collect(script)


async def test_replay_script_is_usable_directly() -> None:
    items = [item async for item in replay_script(SHIPPED, "athlete-2", speed=0)]
    assert items[0].payload.user_id == "athlete-2" and len(items) == 25


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(
    st.text(max_size=40),
    st.fixed_dictionaries({"exercise": st.text(max_size=70), "reps": st.integers(-5, 2000),
                           "weight": st.floats(allow_nan=True), "rest": st.integers(-1, 5000)},
                          optional={"duration": st.floats(-1, 1e6)}).map(repr),
), max_size=8))
def test_any_text_raises_only_recording_error(lines: list[str]) -> None:
    import json

    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "fuzz.jsonl"
        script.write_text("\n".join(line.replace("'", '"') for line in lines))
        try:
            events = fired(script)
        except RecordingError:
            return
    assert events[0].trigger_id == "pre-start" and events[-1].trigger_id == "workout-end"
    assert json.dumps([e.to_json_dict() for e in events])
