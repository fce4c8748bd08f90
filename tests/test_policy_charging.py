"""What a line costs when the pipeline holds it back after the policy said speak.

The policy charges when it says yes (coaching quota, the trigger's cooldown, the talk
budget's gap), in one step under its lock; a line then held back by the TTS limit or
replaced by the earcon keeps those charges (docs/coach.md, "What a line costs"). A line
a gate suppresses costs nothing. Real model, voice and SQLite file; null audio.
"""

from pathlib import Path

import pytest

from edgecoach.audio import NullSink, Player
from edgecoach.contract import Subscription, WorkoutContext, WorkoutEvent
from edgecoach.daemon import build_parts
from edgecoach.pipeline import CoachingPipeline, Parts
from edgecoach.settings import load_settings
from edgecoach.store.limits import HOURLY_LIMITS, hour_start

USER = "charged"
T0 = 1_750_000_000.0


@pytest.fixture
async def parts(tmp_path: Path):
    built = build_parts(load_settings(data_dir=tmp_path / "data"), player=Player(NullSink()))
    built.devices.has_earbuds = True
    built.store.subscriptions.put(Subscription(user_id=USER))  # free tier
    await built.player.start()
    yield built
    await built.player.close()
    built.store.close()


def set_event(trigger: str, number: int, at: float) -> WorkoutEvent:
    return WorkoutEvent(trigger_id=trigger, user_id=USER, timestamp=at, context=WorkoutContext(
        exercise="squat", reps=5, weight=80, set_number=number, rest_seconds=90))


def coaching_count(parts: Parts) -> int:
    with parts.store.database.reading() as db:
        row = db.execute("select requestCount from rate_limits where userId = ? and "
                         "requestType = 'coaching_trigger' and windowSize = 3600 and "
                         "windowStart = ?", [USER, hour_start(parts.store.database.clock())]
                         ).fetchone()
    return row[0] if row else 0


async def test_a_line_the_tts_limit_holds_back_is_charged_as_spoken(parts: Parts) -> None:
    limits = parts.store.limits
    for _ in range(HOURLY_LIMITS["free"]["tts_generation"]):  # this hour's TTS is spent
        assert limits.try_acquire(USER, "tts_generation", "free", 100).allowed
    pipeline = CoachingPipeline(parts, speculate=False)

    held = await pipeline.handle(set_event("set-end", 1, T0))
    assert (held.status, held.reason) == ("suppressed", "tts limit reached")
    assert coaching_count(parts) == 1  # the coaching quota was charged
    assert parts.policy.talk_budget is not None
    assert parts.policy.talk_budget.state(USER)["lastSpokenAt"] == T0  # so was the gap
    # ...and the trigger's cooldown: the next set-end 5 s later is held back for it.
    again = await pipeline.handle(set_event("set-end", 2, T0 + 5))
    assert again.status == "suppressed" and "cooling down" in (again.reason or "")
    # A gate's no costs nothing: the cooldown's refusal left the quota as it was.
    assert coaching_count(parts) == 1
    # Another trigger inside the talk budget's gap (normal: 30 s) is held back by it.
    other = await pipeline.handle(set_event("set-start", 3, T0 + 10))
    assert other.status == "suppressed" and "talk budget" in (other.reason or "")
    await pipeline.close()
