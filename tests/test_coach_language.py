"""The generator's language checks: each broken class of line rejected, a correct one kept."""

import pytest

from edgecoach.coach.checks import template_problem
from edgecoach.coach.language import (
    NgramSupport,
    Situation,
    bare_range,
    dangling_phrase,
    disagreement,
    exercise_number,
    language_problem,
    repeated_words,
    verbless_sentence,
)
from edgecoach.coach.lines import CorpusLine, LineBank
from edgecoach.coach.situation import SituationCheck, contradiction
from edgecoach.coach.slots import fill
from edgecoach.coach.style import StyleFeatures, style_score
from edgecoach.paths import MODELS_DIR

BANK = LineBank.load(MODELS_DIR / "coach" / "lines.jsonl")


@pytest.mark.parametrize(("broken", "check"), [
    ("Let's make today today count.", repeated_words),
    ("See you the next next time.", repeated_words),
    ("Take the next the next set slow.", repeated_words),
    ("Light day, strain {strain}. Light day.", repeated_words),
    ("We nice and easy on this one.", verbless_sentence),
    ("You the pace smooth, lovely.", None),  # "pace" is a verb: left to the n-gram check
    ("We've was strain {strain}.", disagreement),
    ("We is ready for set {set}.", disagreement),
    ("{reps} reps of {exercise}, lovely.", exercise_number),
    ("Last set of {exercise} done.", exercise_number),
    ("More {exercise} today!", exercise_number),
    ("Hello and welcome! For our first session, and I'm so glad you're here.", dangling_phrase),
    ("Your heart is calm at {hr}. With strain at {strain}, so let's rest.", dangling_phrase),
    ("Well within yourself. After {rest} seconds, then let's go stronger.", dangling_phrase),
    ("{hr} is high. Let's ease back into the {zone_low} to {zone_high}.", bare_range),
    ("Set {set}, {reps} reps. After a longer pause.", dangling_phrase),
    ("Your heart's at {hr}, below our zone of {zone_low} to {zone_high} range.", bare_range),
    ("With {sleep} hours of sleep, well done. A lovely start.", dangling_phrase),
])
def test_a_broken_line_is_rejected(broken, check) -> None:
    if check is None:
        assert language_problem(broken) is None
        return
    assert check(broken) is not None
    assert language_problem(broken) is not None


@pytest.mark.parametrize("good", [
    "Lovely work, {reps} {exercise} reps at {weight} kilos.",
    "Heart at {hr}, strain {strain}. Ease off now.",
    "Go. Go. Go!",
    "You're cruising at strain {strain}. Stop cruising.",
    "You've had a proper rest, so settle in.",
    "Lap {set} of your {exercise} is done. Breathe.",
    "That was the last {exercise} set, well done.",
    "With strain at {strain} you have room, but sleep was short.",
    "For the last set, take it easy.",
    "Let's ease back into the {zone_low} to {zone_high} range.",
    "Under the zone at {hr}. On to lap {set}.",
])
def test_a_correct_line_is_kept(good) -> None:
    assert language_problem(good) is None


def test_the_shipped_corpus_passes_its_own_language_checks() -> None:
    failing = [line.text for line in BANK.lines if language_problem(line.text)]
    assert not failing, failing[:5]


ANY_SET_END = Situation(frozenset({"strength", "hr-easy"}), frozenset({"rest", "hr"}))


def test_ngram_support_licenses_only_what_the_group_has_seen() -> None:
    support = NgramSupport(n=3)
    support.add(("aiden", "set-end"), "Good set. Rest {rest} seconds.")
    support.add(("aiden", "set-end"), "Strong set. Breathe and rest {rest} seconds.")
    assert support.unsupported(("aiden", "set-end"), "Good set. Breathe and rest {rest} seconds.",
                               ANY_SET_END) is None  # a new line joined where the two overlap
    assert support.unsupported(("aiden", "set-end"), "Rest set good.", ANY_SET_END) is not None
    assert support.unsupported(("alice", "set-end"), "Good set. Rest {rest} seconds.",
                               ANY_SET_END) is not None


def test_ngram_support_joins_only_lines_written_for_the_situation() -> None:
    support = NgramSupport(n=3)
    group = ("aiden", "strainsync")
    support.add(group, "Heart at {hr}, way up there. Back off.",
                frozenset({"strain-low", "hr-max"}))
    support.add(group, "Heart at {hr}, smooth. Keep it steady.",
                frozenset({"strain-low", "hr-easy"}))
    support.add(group, "Strain {strain}, smooth. Keep it steady.", frozenset({"strain-low"}))
    easy = Situation(frozenset({"strain-low", "hr-easy"}), frozenset({"hr", "strain"}))
    joined = "Heart at {hr}, smooth. Keep it steady."
    assert support.unsupported(group, joined, easy) is None
    # a piece of the hard heart rate's line is not said at an easy one
    assert support.unsupported(group, "Heart at {hr}, way up there. Back off.", easy)
    # nor a piece that leads into a slot this context cannot fill
    no_hr = Situation(frozenset({"strain-low", "hr-easy"}), frozenset({"strain"}))
    assert support.unsupported(group, joined, no_hr)
    assert support.unsupported(group, "Strain {strain}, smooth. Keep it steady.", no_hr) is None


def line(trigger: str, tags: set[str], text: str) -> CorpusLine:
    return CorpusLine("aiden", trigger, frozenset(tags), text)


def test_advice_against_the_situation_is_rejected() -> None:
    easy = ["Easy heart, push harder next set.", "Plenty left, add effort.",
            "Heart is low, go harder.", "Cruising, pick it up next time."]
    hard = ["Heart is high, back off and breathe.", "Slow down, take the full rest.",
            "Ease off, bring it down.", "Breathe it down, rest longer."]
    lines = ([line("set-end", {"strength", "hr-easy"}, t) for t in easy]
             + [line("set-end", {"strength", "hr-max"}, t) for t in hard]
             + [line("set-end", {"strength"}, "Good set, log it.")])
    check = SituationCheck(lines)
    assert check.problem("set-end", "Back off, slow down and breathe.", ["strength", "hr-easy"])
    assert check.problem("set-end", "Back off, slow down and breathe.", ["strength", "hr-max"]) \
        is None
    assert check.problem("set-end", "Push harder, add effort.", ["strength", "hr-hard"])
    assert check.problem("set-end", "Good set, log it.", ["strength", "hr-easy"]) is None


def test_shipped_corpus_direction_classifier_catches_flipped_zone_advice() -> None:
    check = SituationCheck(BANK.lines)
    wrong = "We're aiming higher, pick it up to {zone_low}."
    assert check.problem("hr-zone", wrong, ["above-zone"])
    assert check.problem("hr-zone", wrong, ["below-zone"]) is None


def test_style_features_measure_what_they_name() -> None:
    loud = StyleFeatures.of("Go! Lock in! Drive!")
    warm = StyleFeatures.of("Lovely work, we're so proud of you, breathe gently.")
    assert loud.exclamation == 1 and loud.imperative == 1 and loud.length < 0.3
    assert warm.warmth > 0.5 and warm.exclamation == 0


def test_personality_values_move_the_style_score() -> None:
    direct = "Rest. Go again."
    gentle = "Lovely set, we can be proud of that, so breathe gently for a while."
    aiden = {"enthusiasm": 0.9, "supportiveness": 0.4, "directness": 0.9}
    alice = {"enthusiasm": 0.8, "supportiveness": 0.9, "directness": 0.4}
    assert style_score(direct, aiden) > style_score(gentle, aiden)
    assert style_score(gentle, alice) > style_score(direct, alice)


@pytest.mark.parametrize(("trigger", "template", "tags"), [
    ("hr-zone", "Heart rate {hr}, a little above our zone. Let's pick it up.", ["below-zone"]),
    ("hr-zone", "You're under the zone, push on.", ["above-zone"]),
    ("strainsync", "Strain {strain}, a lovely middle ground.", ["strain-low"]),
    ("workout-end", "Strain {strain}, a low day.", ["strength", "strain-peak"]),
    ("pre-start", "Your body has had time to recharge. Give it a proper go.",
     ["short-sleep", "strain-low"]),
])
def test_a_zone_or_band_named_wrongly_is_rejected(trigger, template, tags) -> None:
    assert contradiction(trigger, template, tags)


@pytest.mark.parametrize(("trigger", "template", "tags"), [
    ("hr-zone", "Bring it back under {zone_high}, nice and easy.", ["above-zone"]),
    ("strainsync", "Heart at {hr} is high for strain {strain}. Slow down.", ["strain-low"]),
    ("pre-start", "Low on sleep and strain is high, so go easy.", ["short-sleep", "strain-high"]),
])
def test_a_band_word_about_something_else_is_kept(trigger, template, tags) -> None:
    assert contradiction(trigger, template, tags) is None


def test_facts_the_context_does_not_support_are_rejected() -> None:
    values = {"hr": "150", "rest": "60"}
    assert "twice" in template_problem("Heart {hr}, and your heart's at {hr}.", values, [])
    assert "no hr reading" in template_problem("No heart data, rest {rest} seconds.", values, [])
    assert "no strain known" in template_problem("Strain is climbing, rest now.", values, [])
    assert template_problem("No heart data, rest {rest} seconds.", {"rest": "60"}, []) is None
    assert "cardio" in template_problem("Lap done, {reps} reps.", {"reps": "8"}, ["cardio"])


def test_a_long_rest_is_said_in_minutes() -> None:
    assert fill("Rest {rest} seconds.", {"rest": "240"}) == "Rest four minutes."
    assert fill("Rest {rest} seconds.", {"rest": "90"}) == "Rest a minute and a half."
    assert fill("Rest {rest} seconds.", {"rest": "45"}) == "Rest 45 seconds."
    minute = {"rest": "60"}
    assert fill("Check your setup during your {rest} seconds.", minute) == \
        "Check your setup during your minute of rest."
    assert fill("Breathe through every one of your {rest} seconds.", minute) == \
        "Breathe through every second of your minute of rest."
    assert fill("Stay loose through your {rest} seconds of recovery.", minute) == \
        "Stay loose through your minute of recovery."
    assert fill("Use your {rest} seconds.", {"rest": "45"}) == "Use your 45 seconds."
    assert fill("Take all {rest} seconds.", minute) == "Take the full minute."
    assert fill("Use your {rest} seconds.", {"rest": "90"}) == \
        "Use your minute and a half of rest."
    assert fill("Take all {rest} seconds.", {"rest": "150"}) == \
        "Take the full two and a half minutes."
    assert fill("Give yourself every one of those {rest} seconds.", {"rest": "90"}) == \
        "Give yourself the full minute and a half."


@pytest.mark.parametrize(("template", "tags"), [
    ("Here comes {exercise}. Go.", []),
    ("Hit {reps} {exercise}. Chest up.", []),
])
def test_a_bare_exercise_after_a_verb_or_count_is_rejected(template, tags) -> None:
    assert exercise_number(template)


def test_a_finished_exercise_needs_the_last_set() -> None:
    values = {"exercise": "deadlift"}
    assert "last-set" in template_problem("Your {exercise} work is done.", values, ["strength"])
    assert template_problem("Your {exercise} work is done.", values,
                            ["strength", "last-set"]) is None


def test_a_situation_calling_for_care_takes_no_piece_of_a_line_without_it() -> None:
    support = NgramSupport(n=3)
    group = ("aiden", "pre-start")
    support.add(group, "Recovered and ready. Bring the intensity.", frozenset({"strain-low"}))
    support.add(group, "Recovered but short on sleep. Keep it controlled.",
                frozenset({"strain-low", "short-sleep"}))
    fresh = Situation(frozenset({"strain-low"}))
    tired = Situation(frozenset({"strain-low", "short-sleep"}))
    assert support.unsupported(group, "Recovered and ready. Bring the intensity.", fresh) is None
    assert support.unsupported(group, "Recovered and ready. Bring the intensity.", tired)
    assert support.unsupported(group, "Recovered but short on sleep. Keep it controlled.",
                               tired) is None


def test_onboarding_joins_only_at_a_longer_overlap() -> None:
    support = NgramSupport(n=4, orders={"onboarding": 6})
    lines = ("Hello and welcome, I'm so glad you're here today.",
             "For our first session, I'm so glad we get to start.")
    joined = "Hello and welcome, I'm so glad we get to start."  # a three-word overlap
    anything = Situation()
    for trigger in ("onboarding", "pre-start"):
        for text in lines:
            support.add(("alice", trigger), text)
    assert support.unsupported(("alice", "pre-start"), joined, anything) is None
    assert support.unsupported(("alice", "onboarding"), joined, anything)
    assert support.unsupported(("alice", "onboarding"), lines[0], anything) is None


def test_a_small_word_for_a_large_gap_to_the_zone_is_rejected() -> None:
    line = "Heart rate {hr}, just over our zone. Ease the pace."
    far = {"hr": "184", "zone_low": "135", "zone_high": "163"}
    near = {"hr": "166", "zone_low": "135", "zone_high": "163"}
    assert "21 beats" in template_problem(line, far, ["above-zone"])
    assert template_problem(line, near, ["above-zone"]) is None
    below = {"hr": "130", "zone_low": "150", "zone_high": "173"}
    assert template_problem("Heart rate {hr}, a little low. Lift it.", below, ["below-zone"])
    assert template_problem("You've crept above the zone at {hr}. Ease off.", far,
                            ["above-zone"])


def test_a_cue_of_another_movement_is_rejected() -> None:
    ride = {"exercise": "ride", "rest": "45"}
    assert "ride" in template_problem("Lap done. Light feet, loose arms.", ride, ["cardio"])
    assert template_problem("Lap done. Light feet, loose arms.", {"exercise": "run"},
                            ["cardio"]) is None
    assert template_problem("Good reps. Stand tall and breathe.", {"exercise": "pull-up"},
                            ["bodyweight"])
    assert template_problem("Good reps. Stand tall and breathe.", {"exercise": "lunge"},
                            ["bodyweight"]) is None
    assert template_problem("You ran that lap in {duration}.", {"exercise": "row",
                            "duration": "four minutes"}, ["cardio"])
    hr = {"hr": "170", "zone_low": "140", "zone_high": "165"}
    assert template_problem("Above the zone. Shorten your stride.", hr, ["above-zone"])


def test_a_joined_sentence_that_needs_its_own_writer_is_rejected() -> None:
    support = NgramSupport(n=4)
    group = ("alice", "workout-end")
    for text in ("Session complete, and you paced it well.",
                 "All done, and I'm proud of how you paced it.",
                 "Heart rate {hr}. Slow your breathing and rest.",
                 "Ease your breathing and let your shoulders drop.",
                 "Lovely lap. Ease off and let your breathing settle.",
                 "Steady heart, steady hands."):
        support.add(group, text)
    anything = Situation(slots=frozenset({"hr"}))
    # each joined at a four-word overlap, each wrong at the seam
    assert "pronoun" in support.unsupported(group, "Session complete, and you paced it.",
                                            anything)
    assert "'breathing' twice" in support.unsupported(
        group, "Heart rate {hr}. Slow your breathing and let your breathing settle.", anything)
    support.add(group, "Solid day at strain {strain}. Rest up.")
    support.add(group, "A good day at strain {strain}. Solid work.")
    support.add(group, "Solid day's work. Solid rest tonight.")
    assert "again in another sentence" in support.unsupported(
        group, "Solid day at strain {strain}. Solid work.", Situation(slots=frozenset({"strain"})))
    assert support.unsupported(group, "Solid day's work. Solid rest tonight.", anything) is None
    support.add(group, "Last lap, and your heart rate is steady. Rest well.")
    support.add(group, "Look, your heart rate barely rose on that lap. Enjoy the rest.")
    assert "'lap' twice" in support.unsupported(
        group, "Last lap, and your heart rate barely rose on that lap. Enjoy the rest.",
        anything)
    support.add(group, "No old numbers to beat yet. Today you set the first ones.")
    support.add(group, "Starting line. Today you set the bar.")
    assert "refers back with 'ones'" in support.unsupported(
        group, "Starting line. Today you set the first ones.", anything)
    support.add(group, "Last set. Make these {reps} reps count.")
    support.add(group, "Stay tall through these {reps} reps.")
    assert "'Make'" in support.unsupported(group, "Last set. Make these {reps} reps.",
                                           Situation(slots=frozenset({"reps"})))
    # the same shapes as written are kept
    for written in ("All done, and I'm proud of how you paced it.", "Steady heart, steady hands.",
                    "No old numbers to beat yet. Today you set the first ones."):
        assert support.unsupported(group, written, anything) is None


def test_seconds_counted_in_a_rest_said_in_minutes_are_rejected() -> None:
    line = "Record broken! Enjoy your {rest} seconds, you've earned every one."
    tags = ["bodyweight", "personal-best"]
    assert "minutes" in template_problem(line, {"rest": "60"}, tags)
    assert template_problem(line, {"rest": "45"}, tags) is None
