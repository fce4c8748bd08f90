"""The line generator: sample candidates, fill slots from the context, check, fall back.

Blocking (ONNX inference): the daemon calls `generate` from a worker thread. One
loaded generator serves every call; onnxruntime sessions are safe to share.
"""

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgecoach.coach.alternative import CausalLM, prompt_for
from edgecoach.coach.checks import (
    checked,
    normalized,
    template_problem,
    text_problem,
    ungrounded_numbers,
)
from edgecoach.coach.language import NgramSupport, Situation, language_problem
from edgecoach.coach.lines import LineBank
from edgecoach.coach.model import LINES_FILE, CoachModel
from edgecoach.coach.sampling import Constraint, SamplingSettings, sample_batch
from edgecoach.coach.situation import SituationCheck
from edgecoach.coach.slots import SLOT_NAMES, slot_values, slots_in, spoken
from edgecoach.coach.style import STYLE_WEIGHT, style_score
from edgecoach.coach.toast import toast_message
from edgecoach.coach.vocabulary import control_tokens, split_tokens
from edgecoach.contract import Persona, ResponseMetadata, Trigger, WorkoutContext

log = logging.getLogger(__name__)

COACH_DIR = "coach"
SEED_MASK = (1 << 64) - 1
RANKED = 3  # candidates that pass before the best of them is taken
# Ranking: how much a candidate loses for each share of its word pairs the user heard in
# their recent lines (the same phrases line after line wear thin).
FRESHNESS_WEIGHT = 8.0
# Onboarding lines are long introductions said once: pieces joined at a three-word overlap
# read as run-ons there ("For our first session, and I'm glad"), so they join at five.
LONGER_JOINS = {"onboarding": 6}


def word_pairs(text: str) -> set[tuple[str, str]]:
    """Adjacent word pairs of a line already `normalized`."""
    words = text.split()
    return set(zip(words, words[1:], strict=False))


def heard_share(text: str, heard: set[tuple[str, str]]) -> float:
    pairs = word_pairs(normalized(text))
    return len(pairs & heard) / len(pairs) if pairs else 0.0


# Said only if neither the model nor the corpus has a line this context can fill.
# Situations whose allowed next tokens stay cached, the most recent: each holds about
# 20 KB, and every new context made a new one (14 MB after 800 varied lines, unbounded).
ALLOWED_CACHE_SITUATIONS = 64
LAST_RESORT = {"alice": "Lovely work, keep going.", "aiden": "Good. Keep moving."}


@dataclass(frozen=True)
class GeneratedLine:
    """A checked line ready to speak, its toast, and how it was made."""

    text: str
    toast: str
    fallback: bool
    metadata: ResponseMetadata
    condition_tags: tuple[str, ...] = ()
    rejected: tuple[str, ...] = field(default=(), repr=False)  # why candidates failed
    template: str = ""  # the line before its slots were filled
    # A fallback that had only lines the user heard lately, and so repeats one.
    said_lately: bool = False


class LineGenerator:
    """Built-in ONNX model (default) or an alternative causal LM, with the corpus fallback.

    `personas` (the catalog's) give each persona's personality values and style, which
    rank the built-in model's candidates and shape the alternative model's prompt.
    """

    def __init__(self, model: CoachModel, bank: LineBank,
                 sampling: SamplingSettings | None = None,
                 alternative: CausalLM | None = None,
                 personas: Mapping[str, Persona] | None = None) -> None:
        self.model = model
        self.bank = bank
        self.sampling = sampling or SamplingSettings()
        self.alternative = alternative
        self.personas = dict(personas or {})
        self.support = NgramSupport.of_lines(bank.lines, orders=LONGER_JOINS)
        self.directions = SituationCheck(bank.lines)
        self._allowed_ids: dict[tuple[str, str, Situation],
                                dict[tuple[int, ...], np.ndarray]] = {}

    @classmethod
    def load(cls, models_dir: Path, alternative: Path | None = None,
             sampling: SamplingSettings | None = None,
             personas: Mapping[str, Persona] | None = None) -> "LineGenerator":
        """Load models_dir/coach/ (hashes checked); ModelError names a missing or bad file.

        `alternative` is a directory with model.onnx and tokenizer.json of a causal LM
        used instead of the built-in model (the corpus fallback stays).
        """
        model_dir = models_dir / COACH_DIR
        model = CoachModel.load(model_dir)
        bank = LineBank.load(model_dir / LINES_FILE)
        return cls(model, bank, sampling, CausalLM.load(alternative) if alternative else None,
                   personas)

    @property
    def model_version(self) -> str:
        if self.alternative:
            return self.alternative.version
        return self.model.version

    def generate(self, persona_id: str, trigger: Trigger, context: WorkoutContext,
                 tags: Sequence[str], seed: int, recent: Sequence[str]) -> GeneratedLine:
        """A line for this persona and moment; the same seed and inputs give the same line."""
        started = time.perf_counter()
        rng = np.random.default_rng(seed & SEED_MASK)
        values = slot_values(context, trigger.id)
        recent_set = {normalized(text) for text in recent}
        if self.alternative:
            text, used, rejected, tokens_in, tokens_out = self._from_alternative(
                persona_id, trigger, values, recent_set, rng)
            template = text
        else:
            text, template, used, rejected, tokens_in, tokens_out = self._from_model(
                persona_id, trigger, values, tags, recent_set, rng)
        fallback, said_lately = text is None, False
        if text is None:
            text, template, used = self._fallback(persona_id, trigger, values, tags,
                                                  recent_set, seed)
            said_lately = normalized(text) in recent_set
            tokens_out = len(split_tokens(text))
        metadata = ResponseMetadata(
            generation_latency=(time.perf_counter() - started) * 1000,
            model_version=self.model_version, input_tokens=tokens_in, output_tokens=tokens_out)
        if rejected:
            log.debug("rejected candidates: %s", rejected)
        return GeneratedLine(text, toast_message(trigger.id, context, values, text), fallback,
                             metadata, tuple(used), tuple(rejected), template or text,
                             said_lately)

    def _from_model(self, persona: str, trigger: Trigger, values: dict[str, str],
                    tags: Sequence[str], recent: set[str], rng: np.random.Generator):
        options = self.bank.condition_tags(persona, trigger.id, tags)
        used = options[int(rng.integers(len(options)))]
        vocabulary = self.model.vocabulary
        prefix = vocabulary.encode(control_tokens(persona, trigger.id, used))
        rejected: list[str] = []
        personality = self._personality(persona)
        group = (persona, trigger.id)
        situation = Situation(frozenset(tags), frozenset(values))
        heard = {pair for text in recent for pair in word_pairs(text)}
        for _ in range(self.sampling.rounds):
            passed: list[tuple[float, str, str, int]] = []
            allowed = self._constraint(group, situation)
            for sample in sample_batch(self.model, prefix, self.sampling, rng, allowed,
                                       self._unfillable(values)):
                if sample is None:
                    rejected.append("no end of line")
                    continue
                ids, fluency = sample
                template = vocabulary.decode(ids)
                text, problem = self._checked(group, situation, trigger, template, values,
                                              recent)
                if text is None:
                    rejected.append(problem or "")
                    continue
                score = (fluency + STYLE_WEIGHT * style_score(text, personality)
                         - FRESHNESS_WEIGHT * heard_share(text, heard))
                passed.append((score, text, template, len(ids) + 1))
                if len(passed) == RANKED:
                    break  # closing the batch stops its decoding
            if passed:
                _, text, template, tokens_out = max(passed)
                return text, template, used, rejected, len(prefix), tokens_out
        return None, None, used, rejected, len(prefix), 0

    def _unfillable(self, values: dict[str, str]) -> list[int]:
        """Ids of the slot tokens this context has no value for (never sampled)."""
        vocabulary = self.model.vocabulary
        tokens = [f"{space}{{{slot}}}" for slot in SLOT_NAMES - values.keys()
                  for space in ("", " ")]
        return [vocabulary.id(token) for token in tokens if vocabulary.has(token)]

    def _constraint(self, group: tuple[str, str], situation: Situation) -> Constraint:
        """Next-token ids the corpus n-grams of the situation allow, cached by context."""
        cached = (*group, situation)
        cache = self._allowed_ids.pop(cached, None) or {}
        self._allowed_ids[cached] = cache  # the most recent last
        if len(self._allowed_ids) > ALLOWED_CACHE_SITUATIONS:
            self._allowed_ids.pop(next(iter(self._allowed_ids)), None)
        vocabulary = self.model.vocabulary
        width = self.support.order(group) - 1

        def allowed(ids: list[int]) -> np.ndarray:
            key = tuple(ids[-width:])
            if key not in cache:
                tokens = [vocabulary.tokens[i] for i in key]
                cache[key] = np.array(sorted(
                    vocabulary.id(token)
                    for token in self.support.allowed(group, tokens, situation)
                    if vocabulary.has(token)), dtype=np.int64)
            return cache[key]

        return allowed

    def _checked(self, group: tuple[str, str], situation: Situation, trigger: Trigger,
                 template: str, values: dict[str, str],
                 recent: set[str]) -> tuple[str | None, str | None]:
        """(filled line, None), or (None, why not): language, direction, then the facts."""
        problem = (language_problem(template)
                   or self.support.unsupported(group, template, situation)
                   or self.directions.problem(trigger.id, template, situation.tags))
        if problem:
            return None, problem
        return checked(template, values, situation.tags, trigger.max_response_length, recent)

    def _personality(self, persona: str) -> dict[str, float]:
        known = self.personas.get(persona)
        return known.personality.model_dump() if known else {}

    def _from_alternative(self, persona: str, trigger: Trigger, values: dict[str, str],
                          recent: set[str], rng: np.random.Generator):
        assert self.alternative is not None
        prompt = prompt_for(persona, trigger, values, self.personas.get(persona))
        rejected: list[str] = []
        tokens_in = 0
        for _ in range(self.sampling.rounds * 2):
            text, tokens_in, tokens_out = self.alternative.generate(
                prompt, rng, self.sampling.max_tokens, self.sampling.temperature)
            problem = text_problem(text, trigger.max_response_length, recent)
            if problem is None and (stray := ungrounded_numbers(text, values)):
                problem = f"numbers not in the context: {stray}"
            if problem is None:
                return text, [], rejected, tokens_in, tokens_out
            rejected.append(problem)
        return None, [], rejected, tokens_in, 0

    def _fallback(self, persona: str, trigger: Trigger, values: dict[str, str],
                  tags: Sequence[str], recent: set[str],
                  seed: int) -> tuple[str, str, list[str]]:
        """A corpus line written for (a subset of) this situation, chosen by the seed:
        (text, template, its tags)."""
        usable: list[tuple[int, str, str, list[str]]] = []
        for line in self.bank.fitting(persona, trigger.id, tags):
            if not set(slots_in(line.text)) <= values.keys():
                continue
            text = spoken(line.text, values)
            if len(text) <= trigger.max_response_length:
                usable.append((len(line.tags), text, line.text, sorted(line.tags)))
        # a written line can still be wrong for these values ("just under the zone" 19
        # beats under it, "Light feet" on a ride): those only when nothing else fits
        right = [entry for entry in usable if not template_problem(entry[2], values, tags)]
        usable = right or usable
        fresh = [entry for entry in usable if normalized(entry[1]) not in recent] or usable
        if not fresh:
            log.warning("no fallback line for %s/%s with tags %s", persona, trigger.id, tags)
            last_resort = LAST_RESORT.get(persona, LAST_RESORT["alice"])
            return last_resort, last_resort, []
        best = max(entry[0] for entry in fresh)
        top = [entry for entry in fresh if entry[0] == best]
        _, text, template, used = top[seed % len(top)]
        return text, template, used
