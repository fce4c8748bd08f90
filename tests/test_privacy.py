"""sanitize_text and the biometrics filter."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgecoach.privacy import sanitize_text, strip_biometrics


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail me at jo.doe+gym@example.co.uk please", "mail me at [EMAIL] please"),
        ("A@B.io", "[EMAIL]"),
        ("call +1 (555) 123-4567 now", "call [PHONE] now"),
        ("call 555-123-4567", "call [PHONE]"),
        ("ring +44 20 7946 0958", "ring [PHONE]"),
        ("text 555.123.4567.", "text [PHONE]."),
        ("from 192.168.1.20 and 10.0.0.1", "from [IP] and [IP]"),
        ("me@x.org on 8.8.8.8 or 0612345678",
         "[EMAIL] on [IP] or [PHONE]"),
    ],
)
def test_personal_data_is_replaced(text: str, expected: str) -> None:
    assert sanitize_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "5 reps at 100 kg, heart rate 152, rest 90 seconds",
        "Squat 3x5 at 102.5 kg on 2024-01-15",
        "Version 1.2.3 of the app",
        "Strain 45.5 after 12 sets",
        "Ran 10.5 km in 52:30",
        "",
        "Great set! Keep going.",
    ],
)
def test_ordinary_training_text_stays_unchanged(text: str) -> None:
    assert sanitize_text(text) == text


@given(st.text(alphabet=st.characters(blacklist_categories=("Nd",)), max_size=200))
def test_text_without_digits_or_at_signs_is_unchanged(text: str) -> None:
    if "@" not in text:
        assert sanitize_text(text) == text


def test_strip_biometrics_at_any_depth() -> None:
    record = {"textContent": "x", "workoutContext": {"heartRate": 150, "reps": 5,
                                                     "strain": 30, "sleepHours": 6},
              "items": [{"peakHeartRate": 180, "weight": 20}]}
    assert strip_biometrics(record) == {"textContent": "x", "workoutContext": {"reps": 5},
                                        "items": [{"weight": 20}]}
