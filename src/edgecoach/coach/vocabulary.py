"""The built-in model's tokens: words with their leading space, slots, and control tokens.

A line is cut into tokens that keep their leading space (" lovely", " {reps}", ","), so
joining the tokens gives back the exact text. The model's input starts with control
tokens naming the persona, the trigger and the situation tags, then BOS; it writes
tokens until EOS. Training and run time share this module, so both cut text the same way.
"""

import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from edgecoach.errors import ModelError

TOKEN_RE = re.compile(r" ?(?:\{[a-z_]+\}|[A-Za-z]+(?:'[A-Za-z]+)*|[^\sA-Za-z{])")
PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
SPECIALS = (PAD, BOS, EOS, UNK)


def split_tokens(text: str) -> list[str]:
    """The tokens of a corpus line (lossless: ''.join(tokens) == text for corpus text)."""
    return TOKEN_RE.findall(text)


def control_tokens(persona: str, trigger: str, tags: Iterable[str]) -> list[str]:
    """The conditioning prefix; tags sorted so the order in which they were found is moot."""
    return [f"<persona:{persona}>", f"<trigger:{trigger}>",
            *(f"<tag:{tag}>" for tag in sorted(set(tags))), BOS]


class Vocabulary:
    """Token strings and their ids (the id is the index in `tokens`)."""

    def __init__(self, tokens: Sequence[str]) -> None:
        self.tokens = tuple(tokens)
        self._index = {token: i for i, token in enumerate(self.tokens)}
        # Ids the sampler must never emit inside a line (everything in angle brackets).
        self.special_ids = [i for i, token in enumerate(self.tokens)
                            if token.startswith("<") and token.endswith(">") and token != EOS]

    @classmethod
    def build(cls, texts: Iterable[str], controls: Iterable[str]) -> "Vocabulary":
        words = sorted({token for text in texts for token in split_tokens(text)})
        return cls((*SPECIALS, *sorted(set(controls)), *words))

    def __len__(self) -> int:
        return len(self.tokens)

    def id(self, token: str) -> int:
        return self._index.get(token, self._index[UNK])

    def has(self, token: str) -> bool:
        return token in self._index

    def encode(self, tokens: Sequence[str]) -> list[int]:
        return [self.id(token) for token in tokens]

    def decode(self, ids: Iterable[int]) -> str:
        return "".join(self.tokens[i] for i in ids)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({"tokens": list(self.tokens)}, indent=0) + "\n")

    @classmethod
    def load(cls, path: Path) -> "Vocabulary":
        try:
            tokens = json.loads(path.read_text())["tokens"]
        except FileNotFoundError:
            raise ModelError(f"{path}: vocabulary file not found") from None
        except (ValueError, KeyError, TypeError) as error:
            raise ModelError(f"{path}: not a vocabulary file: {error}") from None
        if not all(special in tokens for special in SPECIALS):
            raise ModelError(f"{path}: vocabulary lacks the special tokens")
        return cls(tuple(tokens))
