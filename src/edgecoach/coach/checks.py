"""The checks every candidate line passes before it is spoken."""

import re
import string
from collections.abc import Callable, Collection, Mapping

from edgecoach.coach.language import SENTENCE_RE
from edgecoach.coach.slots import REST_IN_MINUTES, SLOT_NAMES, slots_in, spoken
from edgecoach.coach.vocabulary import UNK

# Number words a template may not contain: quantities only come from slots ("one more" is ok).
NUMBER_WORD_RE = re.compile(
    r"\b(zero|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\w+teen|twenty|"
    r"thirty|forty|fifty|sixty|seventy|eighty|ninety|hundreds?|thousands?|millions?|"
    r"dozens?)\b", re.IGNORECASE)
DIGITS_RE = re.compile(r"\d+(?:\.\d+)?")
ENDING_RE = re.compile(r"[.!?]$")
MIN_WORDS = 3
MAX_SENTENCES = 3
# Phrases that claim something only a tag can vouch for.
CLAIMS: dict[str, re.Pattern[str]] = {
    "personal-best": re.compile(r"personal best|new best|best ever|\bPB\b|\brecord\b",
                               re.IGNORECASE),
    "last-set": re.compile(r"\b(last|final|closing|single|only) (set|lap|interval|round|one)\b|"
                           r"\bnext exercise\b|\bone set\b|\bwork is (done|finished|over)\b|"
                           r"\bcloses (out )?the exercise\b", re.IGNORECASE),
    "persona-change": re.compile(r"\b(previous|last|old|other) (coach|voice)\b|\btaking over\b|"
                                 r"\b(switched|switching) (to|over)\b|\byou switched\b",
                                 re.IGNORECASE),
    "first-set": re.compile(r"\bfirst (set|lap|interval|round)\b", re.IGNORECASE),
}
# Talk of a measurement the context does not have ("heart steady" with no heart rate).
MENTIONS: dict[str, re.Pattern[str]] = {
    "hr": re.compile(r"\b(heart|pulse|beats|bpm)\b", re.IGNORECASE),
    "strain": re.compile(r"\bstrain\b", re.IGNORECASE),
    "sleep": re.compile(r"\b(sleep|slept)\b", re.IGNORECASE),
}
# Words of one kind of exercise said in a set of another ("lap" in a squat set).
KIND_WORDS: dict[str, re.Pattern[str]] = {
    "cardio": re.compile(r"\b(reps?|kilos|bar|weight)\b", re.IGNORECASE),
    "strength": re.compile(r"\b(laps?|stride|miles?)\b", re.IGNORECASE),
    "bodyweight": re.compile(r"\b(laps?|stride|miles?|kilos|bar)\b", re.IGNORECASE),
}
# "No heart data" may be said when there is none.
NEGATION_RE = re.compile(r"\b(no|not|without|missing|can't|couldn't|isn't)\b|n't\b",
                         re.IGNORECASE)
# Cues of one kind of movement ("Light feet" on a bike, "Stand tall" hanging from a bar):
# each pattern with a test of the exercise name it fits ("" when none is named).
RUNNING = ("run", "jog", "walk", "sprint")
OFF_THE_FEET = ("pull-up", "chin-up", "dip", "push-up", "bench", "row", "swim", "ride", "plank")
EXERCISE_CUES: tuple[tuple[re.Pattern[str], Callable[[str], bool]], ...] = (
    (re.compile(r"\b(strides?|footstrike|light feet|quick feet|feet light|you ran)\b",
                re.IGNORECASE),
     lambda exercise: any(name in exercise for name in RUNNING)),
    (re.compile(r"\bstand tall\b", re.IGNORECASE),
     lambda exercise: not any(name in exercise for name in OFF_THE_FEET)),
)
# "Just over the zone" is wrong 20 beats over it: a small word for a gap this large.
SLIGHTLY_RE = re.compile(
    r"\b(just|a little|a touch|slightly|a bit|barely|a tad)( too)? (over|above|under|below|high|"
    r"low|hot|quick|fast|easy|slow|comfortable)\b|"
    r"\b(crept|creeping|drifted|drifting|edged|edging) (just )?(over|above|under|below)\b",
    re.IGNORECASE)
SLIGHT_BEATS = 10
# "Enjoy your {rest} seconds, you've earned every one" is wrong once the rest is said in
# minutes ("your minute of rest, you've earned every one").
SECONDS_REFERENT_RE = re.compile(r"\{rest\} seconds\b[^.!?]*\b(every one|each one|them)\b",
                                 re.IGNORECASE)
_STRIP = str.maketrans("", "", string.punctuation)


def normalized(text: str) -> str:
    """For the repeat check: case, punctuation, spacing and numbers do not make a line new
    ("Well done on lap 2" after "Well done on lap 1" is the same line again)."""
    return " ".join(DIGITS_RE.sub("#", text.lower()).translate(_STRIP).split())


def template_problem(template: str, values: Mapping[str, str], tags: Collection[str]) -> str | None:
    """Why a model template cannot be used (before filling), or None."""
    if UNK in template or "<" in template:
        return "unknown token"
    for slot in slots_in(template):
        if slot not in SLOT_NAMES:
            return f"unknown slot {{{slot}}}"
        if slot not in values:
            return f"no value for {{{slot}}}"
    if DIGITS_RE.search(template) or NUMBER_WORD_RE.search(template):
        return "a number not from a slot"
    for tag, pattern in CLAIMS.items():
        if tag not in tags and pattern.search(template):
            return f"claims {tag} without the tag"
    slots = slots_in(template)
    if repeated := {slot for slot in slots if slots.count(slot) > 1}:
        return f"says {{{repeated.pop()}}} twice"
    for slot, pattern in MENTIONS.items():
        for sentence in SENTENCE_RE.findall(template):
            if not (match := pattern.search(sentence)):
                continue
            negated = NEGATION_RE.search(sentence) is not None
            if slot not in values and not negated:
                return f"says '{match.group(0)}' with no {slot} known"
            if slot in values and negated and f"{{{slot}}}" not in template:
                return f"says there is no {slot} reading, but there is"
    for kind, pattern in KIND_WORDS.items():
        if kind in tags and (match := pattern.search(template)):
            return f"says '{match.group(0)}' in a {kind} set"
    return (understated_gap(template, values) or misplaced_cue(template, values)
            or lost_referent(template, values))


def lost_referent(template: str, values: Mapping[str, str]) -> str | None:
    """A word that counts the seconds of a rest said in minutes."""
    rest = values.get("rest", "")
    if rest.isdigit() and int(rest) >= REST_IN_MINUTES and (
            match := SECONDS_REFERENT_RE.search(template)):
        return f"'{match.group(1)}' counts seconds, but the rest is said in minutes"
    return None


def misplaced_cue(template: str, values: Mapping[str, str]) -> str | None:
    """A movement cue the exercise does not have ("Light feet" for a ride)."""
    exercise = values.get("exercise", "").lower()
    for pattern, fits in EXERCISE_CUES:
        if (match := pattern.search(template)) and not fits(exercise):
            return f"says '{match.group(0)}' for {exercise or 'an unnamed exercise'}"
    return None


def understated_gap(template: str, values: Mapping[str, str]) -> str | None:
    """A small word ("just over", "a little low") for a heart rate far out of its zone."""
    try:
        hr, low, high = (float(values[key]) for key in ("hr", "zone_low", "zone_high"))
    except (KeyError, ValueError):
        return None
    gap = max(hr - high, low - hr)
    if gap > SLIGHT_BEATS and (match := SLIGHTLY_RE.search(template)):
        return f"says '{match.group(0)}' {gap:.0f} beats out of the zone"
    return None


def text_problem(text: str, max_length: int, recent: Collection[str]) -> str | None:
    """Why a filled line cannot be spoken, or None."""
    if len(text) > max_length:
        return f"longer than {max_length} characters"
    if not ENDING_RE.search(text):
        return "no sentence ending"
    if len(text.split()) < MIN_WORDS:
        return "too short"
    if len(re.findall(r"[.!?]+(?:\s|$)", text)) > MAX_SENTENCES:
        return "too many sentences"
    if normalized(text) in recent:
        return "repeats a recent line"
    return None


def ungrounded_numbers(text: str, values: Mapping[str, str]) -> list[str]:
    """Numbers in `text` that are no slot value (the grounding check for free-form models)."""
    known = {match for value in values.values() for match in DIGITS_RE.findall(value)}
    return [number for number in DIGITS_RE.findall(text) if number not in known]


def checked(template: str, values: Mapping[str, str], tags: Collection[str],
            max_length: int, recent: Collection[str]) -> tuple[str | None, str | None]:
    """(filled text, None) when the template passes every check, else (None, reason)."""
    problem = template_problem(template, values, tags)
    if problem:
        return None, problem
    text = spoken(template, values)
    problem = text_problem(text, max_length, recent)
    return (None, problem) if problem else (text, None)
