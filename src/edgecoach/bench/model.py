"""`python -m edgecoach.bench model`: quality and speed figures of the coach line generator.

Generates lines over random valid contexts (every persona x trigger) and prints validity
(passed every check without the fallback), fallback share, distinct-2, novelty (not a
corpus line verbatim after slot filling), persona separability (naive Bayes on word
n-grams, trained on the corpus), grounding (numbers said that are in the context),
latency percentiles, model size, and the float/int8 validity measured at training.
"""

import argparse
import json
import random
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgecoach.catalog import Catalog, load_catalog
from edgecoach.coach import LineGenerator, situation_tags
from edgecoach.coach.checks import DIGITS_RE, normalized
from edgecoach.coach.lines import LineBank
from edgecoach.coach.situation import NaiveBayes
from edgecoach.coach.slots import fill, slot_values, slots_in
from edgecoach.contract import PERSONA_IDS, TRIGGER_IDS, WorkoutContext
from edgecoach.paths import CONFIG_DIR, MODELS_DIR

STRENGTH = ("squat", "bench press", "deadlift", "overhead press", "romanian deadlift", "row")
BODYWEIGHT = ("push-up", "pull-up", "lunge", "dip", "burpee")
CARDIO = ("run", "ride", "row", "swim")  # the words the FIT source gives
RECENT = 50


def random_context(trigger_id: str, rng: random.Random) -> WorkoutContext:
    """A plausible, valid context for the trigger, with fields present or absent at random."""
    def maybe(p: float, value):  # noqa: ANN001, ANN202 - tiny local helper
        return value if rng.random() < p else None

    hr = rng.randint(80, 195)
    if trigger_id in ("set-start", "set-end"):
        kind = rng.choice(("strength", "bodyweight", "cardio"))
        fields: dict = {"set_number": rng.randint(1, 6), "last_set": rng.random() < 0.2,
                        "rest_seconds": rng.choice((30, 45, 60, 90, 120, 180, 240))}
        if kind == "strength":
            fields |= {"exercise": rng.choice(STRENGTH), "reps": rng.randint(3, 15),
                       "weight": rng.randrange(40, 400) * 0.5}
        elif kind == "bodyweight":
            fields |= {"exercise": rng.choice(BODYWEIGHT), "reps": rng.randint(5, 30)}
        else:
            fields |= {"exercise": rng.choice(CARDIO),
                       "duration_seconds": float(rng.randint(45, 900))}
        if trigger_id == "set-end":
            fields |= {"heart_rate": maybe(0.7, hr), "personal_best": rng.random() < 0.15}
        return WorkoutContext(**fields)
    if trigger_id == "strainsync":
        return WorkoutContext(strain=round(rng.uniform(5, 99), 1), heart_rate=maybe(0.7, hr))
    if trigger_id == "workout-end":
        strength = rng.random() < 0.5
        average = maybe(0.8, rng.randint(95, 165))
        return WorkoutContext(
            total_sets=rng.randint(3, 25),
            volume=float(rng.randint(800, 15000)) if strength else None,
            duration_seconds=float(rng.randint(900, 5400)) if not strength else None,
            heart_rate=average, peak_heart_rate=average + rng.randint(10, 35) if average else None,
            strain=maybe(0.7, round(rng.uniform(10, 95), 1)), personal_best=rng.random() < 0.15)
    if trigger_id == "pre-start":
        return WorkoutContext(sleep_hours=maybe(0.7, round(rng.uniform(3.5, 9.5), 1)),
                              strain=maybe(0.6, round(rng.uniform(5, 95))))
    if trigger_id == "hr-zone":
        low = rng.randint(110, 150)
        high = low + rng.randint(10, 30)
        current = high + rng.randint(3, 25) if rng.random() < 0.5 else low - rng.randint(3, 25)
        return WorkoutContext(heart_rate=current, zone_low=low, zone_high=high)
    return WorkoutContext()


@dataclass
class Sample:
    persona: str
    trigger: str
    text: str
    fallback: bool
    latency_ms: float
    values: dict[str, str]
    tags: list[str] = field(default_factory=list)
    repeat: bool = False  # the same as one of this persona's last RECENT lines


def situations(count: int, rng: random.Random) -> Iterator[tuple[str, str, WorkoutContext,
                                                                 list[str]]]:
    """(persona, trigger, context, tags) of random valid moments, cycling persona x trigger."""
    pairs = [(p, t) for p in PERSONA_IDS for t in TRIGGER_IDS]
    for i in range(count):
        persona, trigger = pairs[i % len(pairs)]
        context = random_context(trigger, rng)
        tags = situation_tags(trigger, context)
        if trigger == "onboarding":
            tags = [rng.choice(("first-run", "persona-change"))]
        yield persona, trigger, context, tags


def generate_samples(generator: LineGenerator, catalog: Catalog, count: int,
                     seed: int) -> list[Sample]:
    """`count` lines, cycling persona x trigger, each persona with its own recent lines."""
    rng = random.Random(seed)
    recent: dict[str, list[str]] = {persona: [] for persona in PERSONA_IDS}
    samples = []
    for persona, trigger_id, context, tags in situations(count, rng):
        last = recent[persona][-RECENT:]
        line = generator.generate(persona, catalog.trigger(trigger_id), context, tags,
                                  seed=rng.getrandbits(63), recent=last)
        repeat = normalized(line.text) in {normalized(text) for text in last}
        recent[persona].append(line.text)
        samples.append(Sample(persona, trigger_id, line.text, line.fallback,
                              line.metadata.generation_latency,
                              slot_values(context, trigger_id), tags, repeat))
    return samples


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+|\d+(?:\.\d+)?|[!?]", text.lower())


def distinct_2(texts: Iterable[str]) -> float:
    bigrams = [pair for text in texts for pair in zip(words(text), words(text)[1:], strict=False)]
    return len(set(bigrams)) / max(1, len(bigrams))


def typical_values(trigger_id: str) -> dict[str, str]:
    context = WorkoutContext(exercise="squat", set_number=3, reps=8, weight=100, rest_seconds=90,
                             duration_seconds=250, sleep_hours=6.5, strain=64, heart_rate=150,
                             peak_heart_rate=176, total_sets=12, volume=4200, zone_low=130,
                             zone_high=150)
    return slot_values(context, trigger_id)


def figures(samples: list[Sample], bank: LineBank) -> dict[str, float]:
    """The quality figures of a set of generated lines."""
    generated = [s for s in samples if not s.fallback]
    novel = 0
    for s in generated:
        filled = {normalized(fill(line.text, s.values)) for line in bank.of(s.persona, s.trigger)
                  if set(slots_in(line.text)) <= s.values.keys()}
        novel += normalized(s.text) not in filled
    classifier = NaiveBayes((line.persona, fill(line.text, typical_values(line.trigger)))
                            for line in bank.lines)
    separable = sum(classifier.predict(s.text) == s.persona for s in samples)
    numbers = grounded = 0
    for s in samples:
        known = {n for value in s.values.values() for n in DIGITS_RE.findall(value)}
        found = DIGITS_RE.findall(s.text)
        numbers += len(found)
        grounded += sum(n in known for n in found)
    latencies = np.array([s.latency_ms for s in samples])
    return {
        "lines": len(samples),
        "validityPercent": 100 * len(generated) / len(samples),
        "fallbackPercent": 100 * (len(samples) - len(generated)) / len(samples),
        "distinct2": distinct_2(s.text for s in samples),
        "noveltyPercent": 100 * novel / max(1, len(generated)),
        "personaSeparabilityPercent": 100 * separable / len(samples),
        "groundingPercent": 100 * grounded / numbers if numbers else 100.0,
        "numbersSaid": numbers,
        "repeatsOfRecent": sum(s.repeat for s in samples),
        "latencyP50Ms": float(np.percentile(latencies, 50)),
        "latencyP95Ms": float(np.percentile(latencies, 95)),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m edgecoach.bench model",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1000, help="lines to generate")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    catalog = load_catalog(CONFIG_DIR)
    generator = LineGenerator.load(args.models_dir, personas=catalog.personas)
    warm_up = WorkoutContext(exercise="squat", reps=5, set_number=1, rest_seconds=60)
    generator.generate("alice", catalog.trigger("set-end"), warm_up, ["bodyweight", "no-hr"],
                       seed=0, recent=[])  # the first run of a session is slower
    result = figures(generate_samples(generator, catalog, args.lines, args.seed),
                     generator.bank)
    model_dir = args.models_dir / "coach"
    manifest = generator.model.manifest
    result |= {
        "modelVersion": manifest["modelVersion"],
        "modelFileMB": (model_dir / "coach-int8.onnx").stat().st_size / 1e6,
        "modelDirMB": sum(f.stat().st_size for f in model_dir.iterdir()) / 1e6,
        "floatValidityPercent": manifest["evaluation"]["floatValidityPercent"],
        "int8ValidityPercent": manifest["evaluation"]["int8ValidityPercent"],
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        print(f"{key:28s} {value:.3f}" if isinstance(value, float) else f"{key:28s} {value}")


if __name__ == "__main__":
    main()
