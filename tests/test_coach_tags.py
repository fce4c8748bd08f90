"""Situation tags and slot values: thresholds, HR zones, speech formatting."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgecoach.coach import situation_tags
from edgecoach.coach.slots import number_words, plain_number, slot_values, spoken_duration
from edgecoach.coach.tags import heart_rate_tag, max_heart_rate, strain_tag
from edgecoach.contract import TRIGGER_IDS, WorkoutContext
from edgecoach.settings import AthleteSettings, StrainSettings

# CORPUS_SPEC.md: the tags each trigger's lines may carry.
ALLOWED = {
    "onboarding": {"first-run", "persona-change"},
    "pre-start": {"short-sleep", "good-sleep", "strain-high", "strain-low"},
    "set-start": {"strength", "bodyweight", "cardio", "first-set", "last-set", "long-rest"},
    "set-end": {"strength", "bodyweight", "cardio", "hr-easy", "hr-steady", "hr-hard", "hr-max",
                "no-hr", "personal-best", "last-set"},
    "strainsync": {"strain-low", "strain-mid", "strain-high", "strain-peak", "hr-easy",
                   "hr-steady", "hr-hard", "hr-max"},
    "workout-end": {"strength", "cardio", "personal-best", "strain-low", "strain-mid",
                    "strain-high", "strain-peak", "no-hr"},
    "hr-zone": {"above-zone", "below-zone"},
}


def test_max_heart_rate_sources() -> None:
    assert max_heart_rate(AthleteSettings(max_heart_rate=200, age=40)) == 200
    assert max_heart_rate(AthleteSettings(age=40)) == 180  # Tanaka: 208 - 0.7 * 40
    assert max_heart_rate(AthleteSettings()) == 190


@pytest.mark.parametrize(("bpm", "tag"), [(130, "hr-easy"), (150, "hr-steady"),
                                          (170, "hr-hard"), (185, "hr-max")])
def test_heart_rate_bands_of_max(bpm: int, tag: str) -> None:
    assert heart_rate_tag(bpm, AthleteSettings(max_heart_rate=200)) == tag


def test_karvonen_when_resting_is_known() -> None:
    athlete = AthleteSettings(max_heart_rate=200, resting_heart_rate=60)
    assert heart_rate_tag(130, athlete) == "hr-easy"  # 50 % of reserve
    assert heart_rate_tag(165, athlete) == "hr-hard"  # 75 % of reserve (86 % of max: hard)
    assert heart_rate_tag(140, athlete) == "hr-steady"  # 57 % of reserve (70 %: steady)


def test_strain_bands_follow_the_settings() -> None:
    bands = StrainSettings().bands
    assert [strain_tag(s, bands) for s in (10, 49.9, 50, 80, 95)] == [
        "strain-low", "strain-low", "strain-mid", "strain-high", "strain-peak"]


def test_kind_from_the_fields_present() -> None:
    def kind(**fields) -> str:
        return situation_tags("set-start", WorkoutContext(exercise="x", **fields))[0]

    assert kind(reps=5, weight=100) == "strength"
    assert kind(reps=5, weight=0) == "bodyweight"  # "0 kilos" is never claimed
    assert kind(reps=5) == "bodyweight"
    assert kind(duration_seconds=300) == "cardio"


def test_tags_per_trigger() -> None:
    assert situation_tags("pre-start", WorkoutContext(sleep_hours=5.9, strain=20)) == [
        "short-sleep", "strain-low"]
    assert situation_tags("pre-start", WorkoutContext(sleep_hours=7.5, strain=50)) == [
        "good-sleep"]
    assert situation_tags("set-start", WorkoutContext(
        exercise="squat", reps=5, set_number=1, rest_seconds=300, last_set=True)) == [
        "bodyweight", "first-set", "last-set"]
    assert situation_tags("set-start", WorkoutContext(
        exercise="squat", reps=5, set_number=3, rest_seconds=180)) == ["bodyweight", "long-rest"]
    assert situation_tags("set-end", WorkoutContext(exercise="run", personal_best=True)) == [
        "cardio", "no-hr", "personal-best"]
    assert situation_tags("workout-end", WorkoutContext(duration_seconds=1800, strain=91)) == [
        "cardio", "strain-peak", "no-hr"]
    assert situation_tags("hr-zone", WorkoutContext(heart_rate=120, zone_low=130,
                                                     zone_high=150)) == ["below-zone"]
    assert situation_tags("onboarding", WorkoutContext()) == []


contexts = st.builds(
    WorkoutContext,
    exercise=st.none() | st.sampled_from(["squat", "run"]),
    reps=st.none() | st.integers(1, 30),
    weight=st.none() | st.floats(0, 300),
    strain=st.none() | st.floats(0, 100),
    heart_rate=st.none() | st.integers(40, 220),
    sleep_hours=st.none() | st.floats(0, 12),
    set_number=st.none() | st.integers(1, 10),
    rest_seconds=st.none() | st.integers(0, 600),
    duration_seconds=st.none() | st.floats(0, 7200),
    zone_low=st.none() | st.integers(100, 140),
    zone_high=st.none() | st.integers(141, 180),
    personal_best=st.booleans(),
    last_set=st.booleans(),
)


@settings(max_examples=150, deadline=None)
@given(trigger=st.sampled_from(TRIGGER_IDS), context=contexts)
def test_tags_stay_in_the_corpus_vocabulary_and_claim_only_known_data(trigger, context) -> None:
    tags = situation_tags(trigger, context)
    assert set(tags) <= ALLOWED[trigger]
    values = slot_values(context, trigger)
    if "strength" in tags and trigger != "workout-end":
        assert {"reps", "weight"} <= values.keys()
    if "bodyweight" in tags:
        assert "reps" in values and "weight" not in values
    if any(tag.startswith("hr-") for tag in tags):
        assert "hr" in values
    if {"short-sleep", "good-sleep"} & set(tags):
        assert "sleep" in values
    if any(tag.startswith("strain-") for tag in tags):
        assert "strain" in values


def test_numbers_for_speech() -> None:
    assert plain_number(100.0, 2) == "100"
    assert plain_number(62.5, 2) == "62.5"
    assert plain_number(5.25) == "5.2"
    assert number_words(42) == "forty-two"
    assert number_words(105) == "one hundred five"
    assert spoken_duration(250) == "four minutes ten seconds"
    assert spoken_duration(45) == "forty-five seconds"
    assert spoken_duration(60) == "one minute"
    assert spoken_duration(90) == "a minute and a half"
    assert spoken_duration(270) == "four and a half minutes"
    assert spoken_duration(3900) == "one hour five minutes"
    assert spoken_duration(2530, whole_minutes=True) == "forty-two minutes"


def test_slot_values_only_from_present_fields() -> None:
    values = slot_values(WorkoutContext(exercise="squat", reps=5, weight=100.0, strain=63.6,
                                        volume=4250.4, total_sets=0), "set-end")
    assert values == {"exercise": "squat", "reps": "5", "weight": "100", "strain": "63",
                      "volume": "4250"}
