"""Sampling candidate lines from the built-in step model, several at once (one batch)."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from edgecoach.coach.model import CoachModel
from edgecoach.coach.vocabulary import EOS

TOP_K = 40


@dataclass(frozen=True)
class SamplingSettings:
    candidates: int = 12  # lines sampled together in one batch per round
    rounds: int = 2  # batches tried while no candidate passes, before the fallback
    temperature: float = 0.8
    top_p: float = 0.92
    max_tokens: int = 44


def _top_p_sample(logits: np.ndarray, settings: SamplingSettings,
                  rng: np.random.Generator) -> np.ndarray:
    """Nucleus sampling among the TOP_K likeliest tokens (a full sort per step is too slow)."""
    top = np.argpartition(-logits, TOP_K, axis=1)[:, :TOP_K]
    top_logits = np.take_along_axis(logits, top, axis=1) / settings.temperature
    order = np.argsort(-top_logits, axis=1)
    top = np.take_along_axis(top, order, axis=1)
    probs = np.exp(np.take_along_axis(top_logits, order, axis=1) - top_logits.max(
        axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    keep = np.cumsum(probs, axis=1) - probs < settings.top_p
    probs = np.where(keep, probs, 0.0)
    cumulative = np.cumsum(probs, axis=1)
    draws = rng.random((len(logits), 1)) * cumulative[:, -1:]
    picks = np.minimum((cumulative < draws).sum(axis=1), TOP_K - 1)
    return top[np.arange(len(logits)), picks]


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


Constraint = Callable[[list[int]], np.ndarray]  # a line's tokens so far -> ids allowed next


def _constrain(logits: np.ndarray, outputs: list[list[int]], finished: np.ndarray,
               allowed: Constraint) -> None:
    """Keep only the allowed tokens' logits of each unfinished row (in place)."""
    for row, tokens in enumerate(outputs):
        ids = allowed(tokens)
        if finished[row] or not len(ids):
            continue
        kept = logits[row, ids]
        logits[row] = -np.inf
        logits[row, ids] = kept


def sample_batch(model: CoachModel, prefix: list[int], settings: SamplingSettings,
                 rng: np.random.Generator, allowed: Constraint | None = None,
                 ) -> Iterator[tuple[list[int], float] | None]:
    """Sample `settings.candidates` lines after `prefix` together, yielding each as it ends.

    `allowed` restricts each next token (the corpus n-grams, `NgramSupport`). A candidate
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
    banned = vocabulary.special_ids()
    eos = vocabulary.id(EOS)
    outputs: list[list[int]] = [[] for _ in range(batch)]
    log_prob = np.zeros(batch)
    finished = np.zeros(batch, dtype=bool)
    for _ in range(settings.max_tokens):
        logits[:, banned] = -np.inf
        if allowed is not None:
            _constrain(logits, outputs, finished, allowed)
        tokens = _top_p_sample(logits, settings, rng)
        log_prob += _log_softmax(logits)[np.arange(batch), tokens]
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
