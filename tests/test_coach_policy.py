"""Coaching policy: trigger conditions, required context, cooldown (event time), limits."""

import pytest

from edgecoach.catalog import load_catalog
from edgecoach.coach import CoachPolicy
from edgecoach.contract import DevicePreferences, Subscription, WorkoutContext, WorkoutEvent
from edgecoach.paths import CONFIG_DIR

USER = "athlete"


@pytest.fixture
def policy(store) -> CoachPolicy:
    return CoachPolicy(load_catalog(CONFIG_DIR), store.limits)


def event(trigger: str, at: float = 1_000.0, **context) -> WorkoutEvent:
    return WorkoutEvent(trigger_id=trigger, user_id=USER, context=WorkoutContext(**context),
                        timestamp=at)


def subscription(**fields) -> Subscription:
    return Subscription(user_id=USER, **fields)


SQUAT = {"exercise": "squat", "reps": 5, "weight": 100.0, "set_number": 2, "rest_seconds": 90}


def test_speaks_with_the_situation_tags(policy) -> None:
    decision = policy.decide(event("set-end", heart_rate=150, **SQUAT), subscription(), True)
    assert decision.speak and decision.reason is None
    assert "strength" in decision.tags and any(t.startswith("hr-") for t in decision.tags)
    assert decision.priority == 6


def test_earbuds_required(policy) -> None:
    decision = policy.decide(event("set-end", **SQUAT), subscription(), has_earbuds=False)
    assert not decision.speak and "earbuds" in decision.reason
    assert policy.decide(event("workout-end", total_sets=3), subscription(), False).speak


def test_subscription_level_is_the_lowest_tier(policy) -> None:
    strain = event("strainsync", strain=80)
    denied = policy.decide(strain, subscription(subscription_type="free"), True)
    assert not denied.speak and "pro" in denied.reason
    assert policy.decide(strain, subscription(subscription_type="trainer"), True).speak


def test_training_phase(policy) -> None:
    decision = policy.decide(event("set-start", **SQUAT),
                             subscription(training_phase="onboarding"), True)
    assert not decision.speak and "onboarding phase" in decision.reason


def test_required_context_and_voice_access(policy) -> None:
    missing = policy.decide(event("set-end", reps=5), subscription(), True)
    assert not missing.speak and missing.reason == "context lacks exercise"
    muted = policy.decide(event("set-end", **SQUAT), subscription(voice_access=False), True)
    assert not muted.speak and "voice access" in muted.reason


def test_hr_zone_inside_the_zone_stays_silent(policy) -> None:
    inside = policy.decide(event("hr-zone", heart_rate=140, zone_low=130, zone_high=150),
                           subscription(), True)
    assert not inside.speak and "within" in inside.reason
    above = policy.decide(event("hr-zone", heart_rate=160, zone_low=130, zone_high=150),
                          subscription(), True)
    assert above.speak and above.tags == ["above-zone"]


def test_cooldown_per_trigger_in_event_time(policy) -> None:
    assert policy.decide(event("set-end", 1000, **SQUAT), subscription(), True).speak
    again = policy.decide(event("set-end", 1010, **SQUAT), subscription(), True)
    assert not again.speak and "cooling down (10 s left)" in again.reason
    assert policy.decide(event("set-start", 1010, **SQUAT), subscription(), True).speak
    assert policy.decide(event("set-end", 1020, **SQUAT), subscription(), True).speak


def test_suppressed_events_cost_no_quota(policy, store) -> None:
    before = store.limits.remaining(USER, "free", 100)
    policy.decide(event("set-end", **SQUAT), subscription(), has_earbuds=False)
    assert store.limits.remaining(USER, "free", 100) == before


def test_limit_denial_is_recorded(policy, store) -> None:
    capped = subscription(device_preferences=DevicePreferences(max_daily_coaching=1))
    assert policy.decide(event("workout-end", total_sets=3), capped, True).speak
    second = event("pre-start", sleep_hours=5.0)
    decision = policy.decide(second, capped, True)
    assert not decision.speak and "daily coaching limit of 1" in decision.reason
    denials = store.limits.denials(USER)
    assert [d["eventId"] for d in denials] == [second.id]
    # A denied event starts no cooldown: once the cap allows, the same trigger speaks.
    assert "cooling" not in policy.decide(second, capped, True).reason


def test_tags_for_needs_no_quota(policy, store) -> None:
    tags = policy.tags_for(event("pre-start", sleep_hours=5.0, strain=80))
    assert tags == ["short-sleep", "strain-high"]
    assert store.limits.remaining(USER, "free", 100)["coachingPerHour"] == 50


def test_earbuds_only_never_falls_back_to_the_speaker(policy) -> None:
    earbuds_only = subscription().model_copy(deep=True)
    earbuds_only.device_preferences.fallback_to_speaker = False
    silent = policy.decide(event("workout-end", total_sets=3), earbuds_only, False)
    assert not silent.speak and "fallbackToSpeaker" in silent.reason
    assert policy.decide(event("workout-end", 2000, total_sets=3), earbuds_only, True).speak
