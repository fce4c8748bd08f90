"""The shipped model: loads, writes valid grounded lines for every persona x trigger."""

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgecoach.bench.model import random_context
from edgecoach.catalog import load_catalog
from edgecoach.coach import LineGenerator, SamplingSettings, situation_tags
from edgecoach.coach.checks import DIGITS_RE, SLIGHTLY_RE, normalized, text_problem
from edgecoach.coach.generator import LAST_RESORT
from edgecoach.coach.language import repeated_words
from edgecoach.coach.slots import fill, slot_values
from edgecoach.coach.style import StyleFeatures
from edgecoach.contract import (
    PERSONA_IDS,
    TRIGGER_IDS,
    Personality,
    VoiceResponse,
    WorkoutContext,
)
from edgecoach.paths import CONFIG_DIR, MODELS_DIR

CATALOG = load_catalog(CONFIG_DIR)
SQUAT = WorkoutContext(exercise="squat", reps=5, weight=100, heart_rate=150, set_number=2,
                       rest_seconds=90)


@pytest.fixture(scope="module")
def generator() -> LineGenerator:
    return LineGenerator.load(MODELS_DIR, personas=CATALOG.personas)


def assert_grounded(text: str, context: WorkoutContext, trigger: str) -> None:
    values = slot_values(context, trigger)
    known = {n for value in values.values() for n in DIGITS_RE.findall(value)}
    stray = [n for n in DIGITS_RE.findall(text) if n not in known]
    assert not stray, f"{text!r} says {stray}, not in {values}"
    assert "{" not in text and "<" not in text


@pytest.mark.parametrize("persona", PERSONA_IDS)
@pytest.mark.parametrize("trigger", TRIGGER_IDS)
def test_valid_line_for_every_persona_and_trigger(generator, persona, trigger) -> None:
    rng = random.Random(f"{persona}/{trigger}")
    context = random_context(trigger, rng)
    tags = situation_tags(trigger, context) or (["first-run"] if trigger == "onboarding" else [])
    line = generator.generate(persona, CATALOG.trigger(trigger), context, tags, seed=1,
                              recent=[])
    assert not line.fallback, line.rejected
    assert text_problem(line.text, CATALOG.trigger(trigger).max_response_length, set()) is None
    assert_grounded(line.text, context, trigger)
    assert 0 < len(line.toast) <= 60
    meta = line.metadata
    assert meta.model_version == generator.model.manifest["modelVersion"]
    assert meta.input_tokens >= 3 and meta.output_tokens >= 3 and meta.generation_latency > 0
    assert set(line.condition_tags) <= set(tags)


def test_same_seed_same_line(generator) -> None:
    trigger = CATALOG.trigger("set-end")
    tags = situation_tags("set-end", SQUAT)
    again = [generator.generate("aiden", trigger, SQUAT, tags, seed=5, recent=[]).text
             for _ in range(2)]
    assert again[0] == again[1]
    lines = {generator.generate("aiden", trigger, SQUAT, tags, seed=s, recent=[]).text
             for s in range(20)}
    assert len(lines) >= 8  # other seeds, other lines (11 of 20 distinct when written)


contexts = st.builds(
    WorkoutContext,
    exercise=st.sampled_from(["squat", "run", "push-up"]),
    reps=st.none() | st.integers(1, 50),
    weight=st.none() | st.floats(0, 400).map(lambda w: round(w * 4) / 4),
    strain=st.none() | st.floats(0, 100),
    heart_rate=st.none() | st.integers(40, 220),
    peak_heart_rate=st.none() | st.integers(40, 250),
    sleep_hours=st.none() | st.floats(0, 12),
    set_number=st.none() | st.integers(1, 20),
    total_sets=st.none() | st.integers(0, 40),
    rest_seconds=st.none() | st.integers(0, 600),
    duration_seconds=st.none() | st.floats(0, 7200),
    volume=st.none() | st.floats(0, 50000),
    zone_low=st.none() | st.integers(100, 140),
    zone_high=st.none() | st.integers(141, 180),
    personal_best=st.booleans(),
    last_set=st.booleans(),
)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(persona=st.sampled_from(PERSONA_IDS), trigger=st.sampled_from(TRIGGER_IDS),
       context=contexts, seed=st.integers(0, 2**63))
def test_no_number_that_is_not_in_the_context(generator, persona, trigger, context,
                                              seed) -> None:
    tags = situation_tags(trigger, context)
    line = generator.generate(persona, CATALOG.trigger(trigger), context, tags, seed=seed,
                              recent=[])
    assert_grounded(line.text, context, trigger)
    assert len(line.text) <= CATALOG.trigger(trigger).max_response_length
    assert len(line.toast) <= 60


def test_no_repeat_of_the_recent_lines_in_a_real_store(generator, store) -> None:
    trigger = CATALOG.trigger("set-end")
    tags = situation_tags("set-end", SQUAT)
    said = []
    for _ in range(4):
        line = generator.generate("alice", trigger, SQUAT, tags, seed=11,
                                  recent=store.responses.recent_texts("athlete", 20))
        said.append(line.text)
        store.responses.add(VoiceResponse(user_id="athlete", trigger_id="set-end",
                                          persona_id="alice", text_content=line.text))
    assert len({normalized(text) for text in said}) == 4, said


def test_a_line_is_not_said_again_with_only_its_numbers_changed(generator) -> None:
    """Lap after lap, "Well done on lap 2" after "Well done on lap 1" is a repeat."""
    trigger = CATALOG.trigger("set-end")
    said: list[str] = []
    for lap in range(1, 7):
        context = WorkoutContext(exercise="run", set_number=lap, rest_seconds=30,
                                 duration_seconds=300 + lap, heart_rate=150)
        tags = situation_tags("set-end", context)
        said.append(generator.generate("alice", trigger, context, tags, seed=5,
                                       recent=said).text)
    assert len({normalized(text) for text in said}) == len(said), said
    assert normalized("Well done on lap 2.") == normalized("well done on lap 1")


def test_fallback_skips_a_written_line_wrong_for_the_values(generator) -> None:
    never = LineGenerator(generator.model, generator.bank, SamplingSettings(rounds=0))
    far_below = WorkoutContext(heart_rate=105, zone_low=124, zone_high=162)
    tags = situation_tags("hr-zone", far_below)
    said = {never.generate("alice", CATALOG.trigger("hr-zone"), far_below, tags, seed=seed,
                           recent=[]).text for seed in range(60)}
    assert len(said) > 5
    assert not [text for text in said if SLIGHTLY_RE.search(text)], said


def test_fallback_is_a_fitting_corpus_line(generator) -> None:
    never = LineGenerator(generator.model, generator.bank, SamplingSettings(rounds=0))
    context = WorkoutContext(exercise="push-up", reps=12, set_number=3, rest_seconds=60)
    tags = situation_tags("set-end", context)
    line = never.generate("aiden", CATALOG.trigger("set-end"), context, tags, seed=3,
                          recent=[])
    assert line.fallback and set(line.condition_tags) <= set(tags)
    corpus = [row.text for row in generator.bank.of("aiden", "set-end")]
    values = slot_values(context, "set-end")
    assert line.template in corpus and normalized(line.text) == normalized(
        fill(line.template, values))
    assert "kilos" not in line.text and "beats" not in line.text
    again = never.generate("aiden", CATALOG.trigger("set-end"), context, tags, seed=3,
                           recent=[line.text])
    assert again.text != line.text


def regression_lines(generator, count: int = 200):
    rng = random.Random(2026)
    for i in range(count):
        persona = PERSONA_IDS[i % 2]
        trigger = TRIGGER_IDS[(i // 2) % len(TRIGGER_IDS)]
        context = random_context(trigger, rng)
        tags = situation_tags(trigger, context) or (
            ["first-run"] if trigger == "onboarding" else [])
        line = generator.generate(persona, CATALOG.trigger(trigger), context, tags,
                                  seed=rng.getrandbits(63), recent=[])
        yield persona, trigger, tags, line


def test_two_hundred_fixed_lines_are_clean_and_agree_with_their_situation(generator) -> None:
    """No word or word pair said twice in a row, no advice against the tags, no claim
    (heart rate, strain, sleep, record, last set) the context does not support."""
    fallbacks = 0
    for _, trigger, tags, line in regression_lines(generator):
        fallbacks += line.fallback
        assert repeated_words(line.text) is None, line.text
        assert generator.directions.problem(trigger, line.template, tags) is None, (tags, line.text)
        assert not line.fallback or line.rejected
    assert fallbacks <= 6  # <= 3 %


def test_personality_values_steer_the_choice(generator) -> None:
    """Zeroing aiden's values moves his lines away from orders and exclamations."""
    aiden = CATALOG.persona("aiden")
    flat = aiden.model_copy(update={"personality": Personality(
        enthusiasm=0.0, supportiveness=0.0, directness=0.0)})
    steered = LineGenerator(generator.model, generator.bank, personas={"aiden": aiden})
    flattened = LineGenerator(generator.model, generator.bank, personas={"aiden": flat})

    def style(g: LineGenerator) -> float:
        total = 0.0
        for seed in range(40):
            context = random_context("set-end", random.Random(seed))
            tags = situation_tags("set-end", context)
            text = g.generate("aiden", CATALOG.trigger("set-end"), context, tags, seed=seed,
                              recent=[]).text
            features = StyleFeatures.of(text)
            total += features.imperative + features.exclamation
        return total

    assert style(steered) > style(flattened)


@pytest.mark.parametrize("seed", range(1, 9))
def test_a_set_end_without_set_number_or_rest_gets_a_model_line(generator, seed) -> None:
    context = WorkoutContext(exercise="squat", reps=8)
    tags = situation_tags("set-end", context)
    line = generator.generate("alice", CATALOG.trigger("set-end"), context, tags, seed=seed,
                              recent=[])
    assert not line.fallback, line.rejected
    assert line.text not in LAST_RESORT.values()
