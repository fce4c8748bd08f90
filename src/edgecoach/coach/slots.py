"""Slot values from the event context, formatted for speech, and filling them into a line.

Every number the coach says comes from here: a slot is filled only from a field the
context actually has, so a line whose slot has no value is thrown away by the checks.
"""

import re
from collections.abc import Mapping

from edgecoach.contract import WorkoutContext

SLOT_RE = re.compile(r"\{([a-z_]+)\}")
SLOT_NAMES = frozenset({
    "exercise", "set", "reps", "weight", "rest", "duration", "sleep", "strain", "hr",
    "sets", "volume", "peak_hr", "zone_low", "zone_high",
})

_ONES = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def number_words(n: int) -> str:
    """0-999 in words: 42 -> 'forty-two', 105 -> 'one hundred five'."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")
    hundreds, rest = divmod(n, 100)
    return f"{_ONES[hundreds]} hundred" + (f" {number_words(rest)}" if rest else "")


def _unit(n: int, word: str) -> str:
    return f"{number_words(n)} {word}{'' if n == 1 else 's'}"


def spoken_duration(seconds: float, whole_minutes: bool = False) -> str:
    """Seconds as words: 250 -> 'four minutes ten seconds', 45 -> 'forty-five seconds',
    3900 -> 'one hour five minutes'. `whole_minutes` rounds to the minute (summaries)."""
    total = round(seconds)
    if whole_minutes and total >= 60:
        total = round(total / 60) * 60
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return _unit(hours, "hour") + (f" {_unit(minutes, 'minute')}" if minutes else "")
    if not minutes:
        return _unit(secs, "second")
    if secs == 30:  # "a minute and a half", not "one minute thirty seconds"
        return ("a minute and a half" if minutes == 1
                else f"{number_words(minutes)} and a half minutes")
    return _unit(minutes, "minute") + (f" {_unit(secs, 'second')}" if secs else "")


def plain_number(value: float, decimals: int = 1) -> str:
    """100.0 -> '100', 62.5 -> '62.5', 62.25 -> '62.2' (decimals kept only when needed)."""
    text = f"{value:.{decimals}f}".rstrip("0").rstrip(".")
    return text or "0"


def slot_values(context: WorkoutContext, trigger_id: str) -> dict[str, str]:
    """The slots this context can fill, as spoken text; absent fields give no slot."""
    values: dict[str, str] = {}

    def put(name: str, value: object, text: str | None = None) -> None:
        if value is not None:
            values[name] = text if text is not None else str(value)

    put("exercise", context.exercise)
    put("set", context.set_number)
    put("reps", context.reps)
    if context.weight:  # a weight of 0 is a bodyweight set: "0 kilos" is never said
        put("weight", context.weight, plain_number(context.weight, 2))
    put("rest", context.rest_seconds)
    if context.duration_seconds:
        put("duration", context.duration_seconds,
            spoken_duration(context.duration_seconds, whole_minutes=trigger_id == "workout-end"))
    if context.sleep_hours is not None:
        put("sleep", context.sleep_hours, plain_number(context.sleep_hours))
    if context.strain is not None:
        # whole numbers, never rounded up: "we've crossed strain 22" at 21.8 is untrue
        put("strain", context.strain, str(int(context.strain)))
    put("hr", context.heart_rate)
    put("peak_hr", context.peak_heart_rate)
    if context.total_sets:
        put("sets", context.total_sets)
    if context.volume:
        put("volume", context.volume, str(round(context.volume)))
    put("zone_low", context.zone_low)
    put("zone_high", context.zone_high)
    return values


def slots_in(template: str) -> list[str]:
    return SLOT_RE.findall(template)


REST_IN_MINUTES = 60  # a rest this long is said in minutes: "Rest two minutes", not "120 seconds"
# How a rest in seconds is said in minutes, most specific first. After "your" or "the
# full" the article goes ({bare}): "during your minute of rest", "the full minute and a
# half", not "your one minute" or "the full a minute and a half"; "every one of those"
# counts seconds, so it becomes "the full".
REST_IN_WORDS = (
    ("one of your {rest} seconds", "second of your {bare} of rest"),
    ("every one of those {rest} seconds", "the full {bare}"),
    ("all {rest} seconds", "the full {bare}"),
    ("your {rest} seconds of", "your {bare} of"),
    ("your {rest} seconds", "your {bare} of rest"),
    ("{rest} seconds", "{minutes}"),
)


def fill(template: str, values: Mapping[str, str]) -> str:
    """The template with its slots replaced; KeyError if a slot has no value."""
    rest = values.get("rest", "")
    if rest.isdigit() and int(rest) >= REST_IN_MINUTES:
        minutes = spoken_duration(int(rest))
        bare = re.sub(r"^(a|one) ", "", minutes)
        for phrase, said in REST_IN_WORDS:
            template = template.replace(
                phrase, said.replace("{minutes}", minutes).replace("{bare}", bare))
    return SLOT_RE.sub(lambda match: values[match.group(1)], template)


SENTENCE_START_RE = re.compile(r"(^|[.!?]\s+)([a-z])")


def spoken(template: str, values: Mapping[str, str]) -> str:
    """Filled, every sentence with a capital first letter (a sentence may open with a
    slot: "forty minutes...", "four minutes of rest")."""
    return SENTENCE_START_RE.sub(lambda m: m.group(1) + m.group(2).upper(),
                                 fill(template, values))
