"""The talk budget: gaps and priority floors per chattiness, nudges, learned muting, storage."""

import json
from pathlib import Path

import pytest
import sqlite_utils

from edgecoach.errors import ValidationFailed
from edgecoach.session import LEVELS, TalkBudget, speak_chance
from edgecoach.store import Store
from edgecoach.store.database import Database
from edgecoach.store.schema import SCHEMA_VERSION, _v1_initial

USER = "athlete-1"
# Priorities of config/triggers.toml.
PRIORITY = {"workout-end": 10, "onboarding": 9, "hr-zone": 8, "pre-start": 7, "set-end": 6,
            "set-start": 5, "strainsync": 4}


@pytest.fixture
def database(tmp_path: Path, clock):
    opened = Database(tmp_path / "edgecoach.db", clock)
    yield opened
    opened.close()


@pytest.fixture
def budget(database: Database) -> TalkBudget:
    return TalkBudget(database)


def allowed(budget: TalkBudget, trigger: str, now: float, seed: int | str = 0,
            user: str = USER) -> tuple[bool, str | None]:
    return budget.allows(user, trigger, PRIORITY[trigger], now, seed)


def coaching_state_items(database: Database) -> list[dict]:
    with database.reading() as db:
        return list(db.query("select * from outbox where kind = 'coaching_state'"))


@pytest.mark.parametrize("level", ["quiet", "normal", "chatty"])
def test_gap_between_lines_per_level(budget: TalkBudget, level: str):
    budget.set_chattiness(USER, level)
    gap = LEVELS[level].min_gap_seconds
    budget.record_spoken(USER, 1000.0)
    ok, reason = allowed(budget, "hr-zone", 1000.0 + gap - 1)
    assert not ok and reason == f"talk budget: {level} gap {gap:g} s"
    assert allowed(budget, "hr-zone", 1000.0 + gap) == (True, None)
    # A clock that went back (an older recording replayed) is not a recent line.
    assert allowed(budget, "hr-zone", 500.0) == (True, None)


def test_gaps_and_floors_are_ordered_from_quiet_to_chatty():
    quiet, normal, chatty = LEVELS["quiet"], LEVELS["normal"], LEVELS["chatty"]
    assert quiet.min_gap_seconds > normal.min_gap_seconds > chatty.min_gap_seconds
    assert quiet.priority_floor > normal.priority_floor > chatty.priority_floor


def test_priority_floor(budget: TalkBudget):
    budget.set_chattiness(USER, "quiet")
    ok, reason = allowed(budget, "set-start", 0.0)
    assert not ok and reason == "talk budget: quiet speaks priority >= 7 only (set-start is 5)"
    assert allowed(budget, "pre-start", 0.0) == (True, None)
    assert allowed(budget, "hr-zone", 0.0) == (True, None)
    budget.set_chattiness(USER, "normal")
    assert allowed(budget, "strainsync", 0.0) == (True, None)
    budget.set_chattiness(USER, "chatty")
    assert budget.allows(USER, "strainsync", 1, 0.0, 0) == (True, None)


def test_workout_end_and_onboarding_always_speak(budget: TalkBudget):
    budget.set_chattiness(USER, "quiet")
    budget.record_spoken(USER, 100.0)
    for _ in range(20):
        budget.rate(USER, "workout-end", helpful=False)
        budget.rate(USER, "onboarding", helpful=False)
    for seed in range(50):
        assert allowed(budget, "workout-end", 101.0, seed) == (True, None)
        assert allowed(budget, "onboarding", 101.0, seed) == (True, None)


def test_nudges_move_one_level_and_stop_at_the_ends(budget: TalkBudget):
    assert budget.state(USER)["chattiness"] == "normal"
    assert budget.nudge(USER, "less") == "quiet"
    assert budget.nudge(USER, "less") == "quiet"
    assert budget.nudge(USER, "more") == "normal"
    assert budget.nudge(USER, "more") == "chatty"
    assert budget.nudge(USER, "more") == "chatty"
    with pytest.raises(ValidationFailed, match="direction"):
        budget.nudge(USER, "louder")
    with pytest.raises(ValidationFailed, match="chattiness"):
        budget.set_chattiness(USER, "silent")


def speak_rate(budget: TalkBudget, trigger: str, draws: int = 2000) -> float:
    spoken = sum(allowed(budget, trigger, 0.0, seed)[0] for seed in range(draws))
    return spoken / draws


def test_not_helpful_ratings_lower_the_speak_rate_and_helpful_ones_raise_it(budget: TalkBudget):
    budget.set_chattiness(USER, "chatty")
    rates = {"unrated": speak_rate(budget, "set-end")}
    for count in range(1, 11):
        budget.rate(USER, "set-end", helpful=False)
        if count in (1, 3, 5, 10):
            rates[f"{count} not helpful"] = speak_rate(budget, "set-end")
    for _ in range(5):
        budget.rate(USER, "set-end", helpful=True)
    rates["then 5 helpful"] = speak_rate(budget, "set-end")
    print("set-end speak rate over 2000 seeds:",
          ", ".join(f"{name}: {rate:.3f}" for name, rate in rates.items()))
    assert rates["unrated"] == 1.0
    assert rates["1 not helpful"] == pytest.approx(2 / 3, abs=0.03)
    assert rates["5 not helpful"] == pytest.approx(speak_chance(0, 5), abs=0.03)
    assert rates["10 not helpful"] < 0.2
    assert rates["10 not helpful"] < rates["5 not helpful"] < rates["3 not helpful"] < 1
    assert rates["then 5 helpful"] > rates["10 not helpful"] + 0.2
    # Another trigger of the same user is untouched.
    assert speak_rate(budget, "set-start", 200) == 1.0
    ok, reason = next(allowed(budget, "set-end", 0.0, seed) for seed in range(100)
                      if not allowed(budget, "set-end", 0.0, seed)[0])
    assert reason is not None and reason.startswith("talk budget: set-end muted by ratings")


def test_the_draw_is_reproducible_from_the_seed(budget: TalkBudget):
    for _ in range(6):
        budget.rate(USER, "set-start", helpful=False)
    first = [allowed(budget, "set-start", 0.0, f"event-{i}")[0] for i in range(200)]
    again = [allowed(budget, "set-start", 0.0, f"event-{i}")[0] for i in range(200)]
    assert first == again and 0 < sum(first) < 200


def test_rate_checks_the_trigger_and_changes_nothing_when_bad(budget: TalkBudget, database):
    with pytest.raises(ValidationFailed, match="triggerId"):
        budget.rate(USER, "cooldown", helpful=False)
    assert coaching_state_items(database) == []
    assert budget.state(USER)["triggers"] == {}


def test_state_survives_reopening_the_database(tmp_path: Path, clock):
    path = tmp_path / "edgecoach.db"
    first = Database(path, clock)
    budget = TalkBudget(first)
    budget.set_chattiness(USER, "quiet")
    budget.rate(USER, "set-end", helpful=False)
    budget.rate(USER, "set-end", helpful=True)
    budget.record_spoken(USER, 1234.0)
    before = budget.state(USER)
    first.close()

    reopened = Database(path, clock)
    try:
        after = TalkBudget(reopened).state(USER)
        assert after == before
        assert after["chattiness"] == "quiet" and after["lastSpokenAt"] == 1234.0
        assert after["triggers"]["set-end"] == {"helpful": 1, "notHelpful": 1,
                                                "speakChance": 1.0}
        assert not TalkBudget(reopened).allows(USER, "hr-zone", 8, 1300.0, 0)[0]
    finally:
        reopened.close()


def test_every_preference_change_queues_a_coaching_state_item(budget: TalkBudget, database,
                                                               clock):
    budget.set_chattiness(USER, "quiet")
    clock.advance(5)
    budget.rate(USER, "set-end", helpful=False)
    budget.nudge(USER, "more")
    budget.record_spoken(USER, 10.0)  # working state, not a preference
    items = coaching_state_items(database)
    assert len(items) == 3
    assert {item["recordId"] for item in items} == {USER}
    assert {item["userId"] for item in items} == {USER}
    assert all(item["sentAt"] is None for item in items)


def test_state_is_json_ready_camel_case(budget: TalkBudget, clock):
    budget.rate(USER, "set-start", helpful=False)
    state = json.loads(json.dumps(budget.state(USER)))
    assert state == {
        "userId": USER, "chattiness": "normal", "minGapSeconds": 30.0, "priorityFloor": 4,
        "lastSpokenAt": None, "updatedAt": None,
        "triggers": {"set-start": {"helpful": 0, "notHelpful": 1,
                                   "speakChance": round(speak_chance(0, 1), 4)}},
    }


def strength_workout() -> list[tuple[float, str]]:
    """A replayed 12-set workout: what the sources and the zone detector would emit."""
    events = [(0.0, "pre-start")]
    for index in range(12):
        start = 60.0 + 150.0 * index
        events += [(start, "set-start"), (start + 45.0, "set-end")]
    events += [(t, "strainsync") for t in (610.0, 1210.0, 1510.0)]
    events += [(t, "hr-zone") for t in (400.0, 700.0, 1000.0, 1300.0, 1600.0)]
    events.append((1900.0, "workout-end"))
    return sorted(events)


def replay(budget: TalkBudget, user: str) -> list[str]:
    spoken = []
    for index, (t, trigger) in enumerate(strength_workout()):
        if allowed(budget, trigger, t, seed=index, user=user)[0]:
            budget.record_spoken(user, t)
            spoken.append(trigger)
    return spoken


def test_quiet_speaks_at_most_half_as_many_lines_as_chatty(budget: TalkBudget):
    counts = {}
    for level in ("quiet", "normal", "chatty"):
        budget.set_chattiness(f"user-{level}", level)
        counts[level] = len(replay(budget, f"user-{level}"))
    print(f"replayed workout of {len(strength_workout())} events, lines spoken: {counts}")
    assert counts["quiet"] * 2 <= counts["chatty"]
    assert counts["quiet"] <= counts["normal"] <= counts["chatty"]
    assert replay(budget, "user-quiet")[-1] == "workout-end"


def test_user_deletion_and_export_cover_the_talk_budget(tmp_path: Path, clock):
    store = Store.open(tmp_path / "edgecoach.db", clock=clock)
    try:
        budget = TalkBudget(store.database)
        budget.set_chattiness(USER, "chatty")
        budget.rate(USER, "set-end", helpful=True)
        exported = store.retention.export_user(USER)
        assert exported["coaching_state"][0]["chattiness"] == "chatty"
        assert exported["trigger_ratings"][0]["triggerId"] == "set-end"
        counts = store.retention.delete_user(USER)
        assert counts["coaching_state"] == 1 and counts["trigger_ratings"] == 1
        assert budget.state(USER)["chattiness"] == "normal"
    finally:
        store.close()


def test_a_version_1_database_gains_the_tables(tmp_path: Path, clock):
    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    _v1_initial(old)
    old["schema_version"].insert({"version": 1, "appliedAt": 0.0}, pk="version")
    old.close()
    database = Database(path, clock)
    try:
        with database.reading() as db:
            assert {"coaching_state", "trigger_ratings"} <= set(db.table_names())
            assert db.execute("select max(version) from schema_version").fetchone()[0] == (
                SCHEMA_VERSION)
        assert TalkBudget(database).set_chattiness(USER, "quiet") == "quiet"
    finally:
        database.close()
