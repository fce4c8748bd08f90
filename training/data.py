"""The corpus as training examples: control prefix + line tokens + EOS, loss on the line only."""

import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path

from edgecoach.coach.vocabulary import EOS, PAD, Vocabulary, control_tokens, split_tokens

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
PERSONAS = ("alice", "aiden")


def read_corpus(corpus_dir: Path = CORPUS_DIR) -> list[dict]:
    """Every line of every persona file, in a stable order."""
    rows: list[dict] = []
    for persona in PERSONAS:
        with (corpus_dir / f"{persona}.jsonl").open() as file:
            rows.extend(json.loads(line) for line in file if line.strip())
    return rows


def corpus_hash(corpus_dir: Path = CORPUS_DIR) -> str:
    digest = hashlib.sha256()
    for persona in PERSONAS:
        digest.update((corpus_dir / f"{persona}.jsonl").read_bytes())
    return digest.hexdigest()


def controls_of(rows: list[dict]) -> set[str]:
    return {token for row in rows
            for token in control_tokens(row["persona"], row["trigger"], row["tags"])}


@dataclass
class Example:
    ids: list[int]
    prefix: int  # number of control tokens (no loss on them)


def examples(rows: list[dict], vocabulary: Vocabulary) -> list[Example]:
    out = []
    for row in rows:
        prefix = control_tokens(row["persona"], row["trigger"], row["tags"])
        ids = vocabulary.encode([*prefix, *split_tokens(row["text"]), EOS])
        out.append(Example(ids, len(prefix)))
    return out


def split(rows: list[dict], held_out: float, seed: int) -> tuple[list[dict], list[dict]]:
    shuffled = rows[:]
    random.Random(seed).shuffle(shuffled)
    cut = int(len(shuffled) * held_out)
    return shuffled[cut:], shuffled[:cut]


BUCKET = 32  # batches whose examples are sorted by length together (less padding)


def batch_order(items: list[Example], size: int,
                generator: random.Random | None) -> list[list[int]]:
    """Indices of each batch. Shuffled for training: a pool of BUCKET batches is sorted by
    length before it is cut, so a batch pads to a near length (a third of the work of
    random batches was padding), and the batches are shuffled again."""
    order = list(range(len(items)))
    if generator is None:
        return [order[start:start + size] for start in range(0, len(order), size)]
    generator.shuffle(order)
    chunks: list[list[int]] = []
    pool = size * BUCKET
    for start in range(0, len(order), pool):
        by_length = sorted(order[start:start + pool], key=lambda i: len(items[i].ids))
        chunks += [by_length[at:at + size] for at in range(0, len(by_length), size)]
    generator.shuffle(chunks)
    return chunks


def batches(items: list[Example], size: int, pad: int, generator: random.Random | None):
    """(inputs, targets) tensors; targets are -100 on the prefix and on padding."""
    import torch  # training only: the corpus readers above serve the tests without torch

    for indices in batch_order(items, size, generator):
        chunk = [items[i] for i in indices]
        width = max(len(e.ids) for e in chunk) - 1
        inputs = torch.full((len(chunk), width), pad, dtype=torch.long)
        targets = torch.full((len(chunk), width), -100, dtype=torch.long)
        for row, example in enumerate(chunk):
            ids = torch.tensor(example.ids)
            inputs[row, :len(ids) - 1] = ids[:-1]
            targets[row, :len(ids) - 1] = ids[1:]
            targets[row, :example.prefix - 1] = -100
        yield inputs, targets


__all__ = ["PAD", "Example", "batches", "corpus_hash", "controls_of", "examples", "read_corpus",
           "split", "batch_order"]
