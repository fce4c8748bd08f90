"""Sampling candidate lines from the built-in step model, several at once (one batch)."""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from edgecoach.coach.model import CoachModel
from edgecoach.coach.vocabulary import EOS

TOP_K = 40


@dataclass(frozen=True)
class SamplingSettings:
    candidates: int = 8  # lines sampled together in one batch per round
    rounds: int = 2  # batches tried while no candidate passes, before the fallback
    temperature: float = 1.0
    top_p: float = 0.92
    max_tokens: int = 44


Constraint = Callable[[list[int]], np.ndarray]  # a line's tokens so far -> ids allowed next


def _nucleus(ids: np.ndarray, logits: np.ndarray, settings: SamplingSettings,
             draw: float) -> int:
    """Nucleus (top-p) sampling among `ids`, with one uniform draw in [0, 1)."""
    if len(ids) == 1:  # the corpus knows one way on (common under the n-gram constraint)
        return int(ids[0])
    chosen = logits[ids]
    order = np.argsort(-chosen, kind="stable")
    ids, chosen = ids[order], chosen[order]
    probs = np.exp((chosen - chosen[0]) / settings.temperature)
    probs /= probs.sum()
    probs = np.where(np.cumsum(probs) - probs < settings.top_p, probs, 0.0)
    cumulative = np.cumsum(probs)
    pick = int(np.searchsorted(cumulative, draw * cumulative[-1], side="right"))
    return int(ids[min(pick, len(ids) - 1)])


def _sample_step(logits: np.ndarray, outputs: list[list[int]], finished: np.ndarray,
                 settings: SamplingSettings, rng: np.random.Generator,
                 allowed: Constraint | None) -> tuple[np.ndarray, np.ndarray]:
    """One token per row and its log-probability under the model (untempered).

    Each row samples among the ids `allowed` gives it, or among the TOP_K likeliest (a
    full sort per step is too slow); a finished row's token is a placeholder.
    """
    top = logits.max(axis=1, keepdims=True)
    log_z = top[:, 0] + np.log(np.exp(logits - top).sum(axis=1))
    likeliest = None if allowed else np.argpartition(-logits, TOP_K, axis=1)[:, :TOP_K]
    draws = rng.random(len(logits))
    tokens = np.zeros(len(logits), dtype=np.int64)
    for row, line in enumerate(outputs):
        if finished[row]:
            continue
        ids = allowed(line) if allowed else likeliest[row]  # type: ignore[index]
        ids = ids[np.isfinite(logits[row, ids])]  # never a banned token
        if not len(ids):  # nothing known to follow: let the checks judge the line
            ids = np.argpartition(-logits[row], TOP_K)[:TOP_K]
        tokens[row] = _nucleus(ids, logits[row], settings, draws[row])
    return tokens, logits[np.arange(len(logits)), tokens] - log_z


def sample_batch(model: CoachModel, prefix: list[int], settings: SamplingSettings,
                 rng: np.random.Generator, allowed: Constraint | None = None,
                 banned: Sequence[int] = ()) -> Iterator[tuple[list[int], float] | None]:
    """Sample `settings.candidates` lines after `prefix` together, yielding each as it ends.

    `allowed` restricts each next token (the corpus n-grams, `NgramSupport`); `banned`
    tokens are never sampled (slots the context has no value for). A candidate
    is yielded at its EOS with its mean log-probability per token under the model (its
    fluency to the model, for ranking); candidates with no EOS within max_tokens are
    yielded as None.
    """
    decoder, vocabulary = model.decoder, model.vocabulary
    hidden = decoder.initial_state(1)
    logits = None
    for token in prefix:  # the prefix is the same for every candidate: run it once
        logits, hidden = decoder.step(np.array([token]), hidden)
    assert logits is not None, "empty prefix"
    batch = settings.candidates
    logits = np.repeat(logits, batch, axis=0)
    hidden = np.repeat(hidden, batch, axis=1)
    banned = [*vocabulary.special_ids, *banned]
    eos = vocabulary.id(EOS)
    outputs: list[list[int]] = [[] for _ in range(batch)]
    log_prob = np.zeros(batch)
    finished = np.zeros(batch, dtype=bool)
    for _ in range(settings.max_tokens):
        logits[:, banned] = -np.inf
        tokens, token_log_prob = _sample_step(logits, outputs, finished, settings, rng, allowed)
        log_prob += token_log_prob
        for row, token in enumerate(tokens):
            if finished[row]:
                continue
            if token == eos:
                finished[row] = True
                yield outputs[row], float(log_prob[row]) / (len(outputs[row]) + 1)
            else:
                outputs[row].append(int(token))
        if finished.all():
            return
        logits, hidden = decoder.step(tokens, hidden)
    for _ in range(int((~finished).sum())):
        yield None
