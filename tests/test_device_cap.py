"""The device-wide cap: every user together stays within the owner's hourly tier, so a
new user id brings no fresh quota; the owner's own tier decides how much is shared."""

import pytest

from edgecoach.contract import Subscription
from edgecoach.store import Store
from edgecoach.store.limits import HOURLY_LIMITS, hour_start
from tests.conftest import FakeClock

OWNER = "athlete"


def acquire(store: Store, user: str, request_type: str = "tts_generation") -> bool:
    return store.limits.try_acquire(user, request_type, "free", 10_000).allowed


@pytest.mark.parametrize("request_type", ["coaching_trigger", "tts_generation"])
def test_new_user_ids_share_the_owners_hourly_quota(store: Store, clock: FakeClock,
                                                    request_type: str) -> None:
    clock.now = hour_start(clock.now) + 10
    store.limits.device_owner = OWNER
    limit = HOURLY_LIMITS["free"][request_type]
    results = [acquire(store, f"user-{number}", request_type) for number in range(3 * limit)]
    assert results.count(True) == limit  # not one quota per fresh user id
    assert not acquire(store, OWNER, request_type)
    denial = store.limits.denials("user-0") or store.limits.denials(f"user-{limit}")
    assert "device-wide" in denial[-1]["reason"]
    clock.advance(3600)  # a new hour: room again
    assert acquire(store, "user-new", request_type)


def test_the_owners_tier_sets_the_device_cap(store: Store, clock: FakeClock) -> None:
    clock.now = hour_start(clock.now) + 10
    store.limits.device_owner = OWNER
    store.subscriptions.put(Subscription(user_id=OWNER, subscription_type="pro"))
    users = [f"user-{number}" for number in range(10)]
    allowed = sum(acquire(store, user) for user in users for _ in range(20))
    # Each free user stops at its own 20; together they stop at the pro owner's 100.
    assert allowed == HOURLY_LIMITS["pro"]["tts_generation"]


def test_without_an_owner_each_user_has_its_own_quota(store: Store, clock: FakeClock) -> None:
    clock.now = hour_start(clock.now) + 10
    allowed = sum(acquire(store, f"user-{number}") for number in range(3) for _ in range(20))
    assert allowed == 3 * HOURLY_LIMITS["free"]["tts_generation"]
