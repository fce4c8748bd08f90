"""Situation tags: what the context says about the moment, in the corpus's vocabulary.

A tag is a claim the line may make ("last set", "heart rate hard", "short sleep"), so a
tag is given only when the context holds the data behind it. Thresholds are named
constants here and documented in docs/coach.md.
"""

from collections.abc import Mapping

from edgecoach.contract import WorkoutContext
from edgecoach.settings import AthleteSettings, StrainSettings
from edgecoach.sources.strain import max_heart_rate

# Heart-rate intensity bands: upper bounds of easy, steady, hard; at or above the last, max.
HR_BANDS_PERCENT_MAX = (0.70, 0.80, 0.90)  # share of max heart rate
HR_BANDS_RESERVE = (0.55, 0.70, 0.85)  # share of heart-rate reserve (Karvonen)
HR_TAGS = ("hr-easy", "hr-steady", "hr-hard", "hr-max")

SHORT_SLEEP_HOURS = 6.0  # below: short-sleep
GOOD_SLEEP_HOURS = 7.5  # at or above: good-sleep
PRE_START_STRAIN_HIGH = 60.0  # recent strain at or above: strain-high (go easier)
PRE_START_STRAIN_LOW = 35.0  # below: strain-low (fresh)
LONG_REST_SECONDS = 180  # rest before a set at or above: long-rest
STRAIN_TAGS = ("strain-low", "strain-mid", "strain-high", "strain-peak")


def heart_rate_tag(heart_rate: int, athlete: AthleteSettings) -> str:
    """hr-easy / hr-steady / hr-hard / hr-max, by Karvonen reserve when resting HR is known."""
    maximum = max_heart_rate(athlete)
    resting = athlete.resting_heart_rate
    if resting and resting < maximum:
        intensity, bands = (heart_rate - resting) / (maximum - resting), HR_BANDS_RESERVE
    else:
        intensity, bands = heart_rate / maximum, HR_BANDS_PERCENT_MAX
    for tag, upper in zip(HR_TAGS, bands, strict=False):
        if intensity < upper:
            return tag
    return HR_TAGS[-1]


def strain_tag(strain: float, bands: Mapping[str, float]) -> str:
    """The band the score is in: below `mid` is low, then mid, high, peak at their thresholds."""
    tag = "strain-low"
    for name in ("mid", "high", "peak"):
        if name in bands and strain >= bands[name]:
            tag = f"strain-{name}"
    return tag


def kind_tag(context: WorkoutContext) -> str:
    """strength (reps and a weight), bodyweight (reps, no weight) or cardio (no reps)."""
    if context.reps is not None and context.weight:
        return "strength"
    if context.reps is not None:
        return "bodyweight"
    return "cardio"


def situation_tags(
    trigger_id: str,
    context: WorkoutContext,
    athlete: AthleteSettings | None = None,
    strain: StrainSettings | None = None,
) -> list[str]:
    """The tags of CORPUS_SPEC.md that this trigger and context support, in a fixed order.

    onboarding gives no tag: whether it is a first run or a persona change is the
    caller's knowledge (it may add `first-run` or `persona-change`).
    """
    athlete = athlete or AthleteSettings()
    bands = (strain or StrainSettings()).bands
    hr = context.heart_rate
    tags: list[str] = []
    if trigger_id == "pre-start":
        if context.sleep_hours is not None and context.sleep_hours < SHORT_SLEEP_HOURS:
            tags.append("short-sleep")
        elif context.sleep_hours is not None and context.sleep_hours >= GOOD_SLEEP_HOURS:
            tags.append("good-sleep")
        if context.strain is not None and context.strain >= PRE_START_STRAIN_HIGH:
            tags.append("strain-high")
        elif context.strain is not None and context.strain < PRE_START_STRAIN_LOW:
            tags.append("strain-low")
    elif trigger_id == "set-start":
        tags.append(kind_tag(context))
        if context.set_number == 1:
            tags.append("first-set")
        elif context.rest_seconds is not None and context.rest_seconds >= LONG_REST_SECONDS:
            tags.append("long-rest")
        if context.last_set:
            tags.append("last-set")
    elif trigger_id == "set-end":
        tags.append(kind_tag(context))
        tags.append(heart_rate_tag(hr, athlete) if hr is not None else "no-hr")
        if context.personal_best:
            tags.append("personal-best")
        if context.last_set:
            tags.append("last-set")
    elif trigger_id == "strainsync":
        if context.strain is not None:
            tags.append(strain_tag(context.strain, bands))
        if hr is not None:
            tags.append(heart_rate_tag(hr, athlete))
    elif trigger_id == "workout-end":
        tags.append("strength" if context.volume or not context.duration_seconds else "cardio")
        if context.personal_best:
            tags.append("personal-best")
        if context.strain is not None:
            tags.append(strain_tag(context.strain, bands))
        if hr is None:
            tags.append("no-hr")
    elif trigger_id == "hr-zone" and hr is not None:
        if context.zone_high is not None and hr > context.zone_high:
            tags.append("above-zone")
        elif context.zone_low is not None and hr < context.zone_low:
            tags.append("below-zone")
    return tags
