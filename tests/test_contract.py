"""Every validation rule of DESIGN section 2, accepted and rejected, naming the field."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgecoach.contract import (
    DevicePreferences,
    Feedback,
    PrivacySettings,
    Subscription,
    WorkoutContext,
    WorkoutEvent,
    parse,
)
from edgecoach.errors import ValidationFailed


def event(**context: object) -> dict:
    return {"triggerId": "set-end", "userId": "u1", "context": context}


def rejected_field(model: type, data: object) -> str:
    with pytest.raises(ValidationFailed) as caught:
        parse(model, data)
    return caught.value.field


def test_a_valid_event_uses_camel_case_on_the_wire() -> None:
    parsed = parse(WorkoutEvent, event(exercise="squat", reps=5, weight=100, heartRate=150,
                                       sleepHours=7.5, strain=0))
    assert parsed.context.heart_rate == 150
    wire = parsed.to_json_dict()
    assert wire["triggerId"] == "set-end"
    assert wire["context"]["heartRate"] == 150 and wire["context"]["sleepHours"] == 7.5


def test_reps_zero_is_rejected_not_silently_accepted() -> None:
    assert rejected_field(WorkoutEvent, event(reps=0)) == "context.reps"


def test_strain_zero_is_fine() -> None:
    assert parse(WorkoutEvent, event(strain=0)).context.strain == 0


@pytest.mark.parametrize("trigger", ["onboarding", "pre-start", "set-start", "set-end",
                                     "strainsync", "workout-end", "hr-zone"])
def test_every_trigger_of_the_design_is_accepted(trigger: str) -> None:
    assert parse(WorkoutEvent, {"triggerId": trigger, "userId": "u"}).trigger_id == trigger


@pytest.mark.parametrize("bad", ["set_end", "SET-END", "", "lap"])
def test_unknown_trigger_names_the_field(bad: str) -> None:
    assert rejected_field(WorkoutEvent, {"triggerId": bad, "userId": "u"}) == "triggerId"


def test_unknown_fields_and_bad_json_are_rejected() -> None:
    assert rejected_field(WorkoutEvent, event(repz=5)) == "context.repz"
    assert rejected_field(WorkoutEvent, "{not json") == "(input)"


def test_persona_and_subscription_type_are_closed_sets() -> None:
    assert rejected_field(Subscription, {"userId": "u", "preferredPersona": "bob"}) \
        == "preferredPersona"
    assert rejected_field(Subscription, {"userId": "u", "subscriptionType": "gold"}) \
        == "subscriptionType"


@given(st.integers(min_value=25, max_value=250))
def test_heart_rate_in_range_is_accepted(bpm: int) -> None:
    assert WorkoutContext(heart_rate=bpm).heart_rate == bpm


@given(st.one_of(st.integers(max_value=24), st.integers(min_value=251)))
def test_heart_rate_out_of_range_is_rejected(bpm: int) -> None:
    assert rejected_field(WorkoutContext, {"heartRate": bpm}) == "heartRate"


@given(st.floats(min_value=0, max_value=100))
def test_strain_in_range_is_accepted(strain: float) -> None:
    assert parse(WorkoutContext, {"strain": strain}).strain == strain


@given(st.one_of(st.floats(max_value=-1e-9), st.floats(min_value=100.0001),
                 st.just(float("nan"))))
def test_strain_out_of_range_is_rejected(strain: float) -> None:
    assert rejected_field(WorkoutContext, {"strain": strain}) == "strain"


@given(st.integers(min_value=1, max_value=1000))
def test_reps_at_least_one_are_accepted(reps: int) -> None:
    assert parse(WorkoutContext, {"reps": reps}).reps == reps


@given(st.integers(max_value=0))
def test_reps_below_one_are_rejected(reps: int) -> None:
    assert rejected_field(WorkoutContext, {"reps": reps}) == "reps"


@given(st.floats(min_value=0, max_value=1000))
def test_weight_zero_or_more_is_accepted(weight: float) -> None:
    assert parse(WorkoutContext, {"weight": weight}).weight == weight


@given(st.floats(max_value=-1e-9))
def test_negative_weight_is_rejected(weight: float) -> None:
    assert rejected_field(WorkoutContext, {"weight": weight}) == "weight"


@given(st.integers(min_value=1, max_value=180))
def test_retention_days_in_range(days: int) -> None:
    assert PrivacySettings(data_retention_days=days).data_retention_days == days


@given(st.one_of(st.integers(max_value=0), st.integers(min_value=181)))
def test_retention_days_out_of_range(days: int) -> None:
    assert rejected_field(PrivacySettings, {"dataRetentionDays": days}) == "dataRetentionDays"


@given(st.integers(min_value=1000, max_value=10000))
def test_toast_duration_in_range(ms: int) -> None:
    assert DevicePreferences(toast_duration=ms).toast_duration == ms


@given(st.one_of(st.integers(max_value=999), st.integers(min_value=10001)))
def test_toast_duration_out_of_range(ms: int) -> None:
    assert rejected_field(DevicePreferences, {"toastDuration": ms}) == "toastDuration"


@pytest.mark.parametrize("rating", [0, 6, -1])
def test_feedback_rating_is_one_to_five(rating: int) -> None:
    assert rejected_field(Feedback, {"rating": rating}) == "rating"


def test_nested_subscription_errors_name_the_path() -> None:
    data = {"userId": "u", "privacySettings": {"dataRetentionDays": 365}}
    assert rejected_field(Subscription, data) == "privacySettings.dataRetentionDays"


def test_biometric_free_context_drops_heart_rate_strain_and_sleep() -> None:
    context = WorkoutContext(exercise="row", reps=10, heart_rate=140, strain=40, sleep_hours=6)
    clean = context.biometric_free()
    assert (clean.heart_rate, clean.strain, clean.sleep_hours) == (None, None, None)
    assert (clean.exercise, clean.reps) == ("row", 10)
