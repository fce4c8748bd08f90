"""Hourly tier windows and the daily cap, across restarts and hour boundaries."""

from pathlib import Path

import pytest

from edgecoach.store import Store
from edgecoach.store.limits import HOUR, HOURLY_LIMITS, hour_start, local_day_start
from tests.conftest import FakeClock


def acquire(store: Store, request_type: str = "coaching_trigger", tier: str = "free",
            daily: int = 10_000) -> bool:
    return store.limits.try_acquire("u1", request_type, tier, daily).allowed


@pytest.mark.parametrize("tier", ["free", "pro", "trainer"])
@pytest.mark.parametrize("request_type", ["coaching_trigger", "tts_generation"])
def test_each_tier_allows_exactly_its_hourly_limit(store: Store, clock: FakeClock, tier: str,
                                                   request_type: str) -> None:
    clock.now = hour_start(clock.now) + 10
    limit = HOURLY_LIMITS[tier][request_type]
    results = [acquire(store, request_type, tier) for _ in range(limit + 3)]
    assert results.count(True) == limit
    assert results[limit:] == [False, False, False]


def test_limits_survive_a_restart(tmp_path: Path) -> None:
    clock = FakeClock()
    clock.now = hour_start(clock.now) + 10
    store = Store.open(tmp_path / "l.db", clock=clock)
    for _ in range(15):
        assert acquire(store, "tts_generation")
    store.close()
    reopened = Store.open(tmp_path / "l.db", clock=clock)
    results = [acquire(reopened, "tts_generation") for _ in range(10)]
    assert results.count(True) == 5
    reopened.close()


def test_a_new_hour_opens_a_new_window(store: Store, clock: FakeClock) -> None:
    clock.now = hour_start(clock.now) + 3599
    assert [acquire(store, "tts_generation") for _ in range(21)].count(True) == 20
    clock.advance(1)  # exactly the next hour
    assert acquire(store, "tts_generation")


def test_daily_cap_counts_across_hours(store: Store, clock: FakeClock) -> None:
    clock.now = local_day_start(clock.now) + 8 * HOUR  # 08:00, 09:00, 10:00 of one day
    allowed_per_hour = []
    for _ in range(3):
        allowed_per_hour.append(sum(acquire(store, daily=5) for _ in range(4)))
        clock.advance(HOUR)  # a new hourly window each time, the same day
    # Each hour's window has room (free: 50); only the daily cap of 5 stops the rest.
    assert allowed_per_hour == [4, 1, 0]


def test_a_denial_records_its_reason(store: Store, clock: FakeClock) -> None:
    clock.now = hour_start(clock.now) + 1
    for _ in range(20):
        acquire(store, "tts_generation")
    decision = store.limits.try_acquire("u1", "tts_generation", "free", 100, event_id="e1")
    assert not decision.allowed and "hourly tts_generation limit of 20" in decision.reason
    denials = store.limits.denials("u1")
    assert [(d["eventId"], d["reason"]) for d in denials] == [("e1", decision.reason)]


def test_remaining_reports_what_is_left(store: Store, clock: FakeClock) -> None:
    clock.now = hour_start(clock.now) + 1
    for _ in range(3):
        acquire(store, daily=10)
    left = store.limits.remaining("u1", "free", 10)
    assert left == {"coachingPerHour": 47, "ttsPerHour": 20, "coachingToday": 7}
