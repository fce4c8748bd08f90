"""The corpus lines shipped with the model: tag sets to condition on, and fallback lines."""

import json
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from edgecoach.errors import ModelError


@dataclass(frozen=True, slots=True)
class CorpusLine:
    persona: str
    trigger: str
    tags: frozenset[str]
    text: str


class LineBank:
    """Corpus lines grouped by (persona, trigger)."""

    def __init__(self, lines: Iterable[CorpusLine]) -> None:
        self.lines = list(lines)
        self._by_key: dict[tuple[str, str], list[CorpusLine]] = defaultdict(list)
        for line in self.lines:
            self._by_key[(line.persona, line.trigger)].append(line)

    @classmethod
    def load(cls, path: Path) -> "LineBank":
        # One string per persona and trigger, one set per distinct tag set (147 for 8,855
        # lines), and no __dict__ per line: 5.9 -> 1.7 MB.
        tag_sets: dict[frozenset[str], frozenset[str]] = {}
        try:
            with path.open() as file:
                return cls(
                    CorpusLine(sys.intern(row["persona"]), sys.intern(row["trigger"]),
                               tag_sets.setdefault(tags := frozenset(row["tags"]), tags),
                               row["text"])
                    for row in map(json.loads, filter(str.strip, file)))
        except FileNotFoundError:
            raise ModelError(f"{path}: fallback lines file not found") from None
        except (ValueError, KeyError, TypeError) as error:
            raise ModelError(f"{path}: not a lines file: {error}") from None

    def of(self, persona: str, trigger: str) -> list[CorpusLine]:
        return self._by_key.get((persona, trigger), [])

    def fitting(self, persona: str, trigger: str, tags: Sequence[str]) -> list[CorpusLine]:
        """Lines written for a subset of the situation, most specific first (stable order)."""
        situation = set(tags)
        fit = [line for line in self.of(persona, trigger) if line.tags <= situation]
        return sorted(fit, key=lambda line: -len(line.tags))

    def condition_tags(self, persona: str, trigger: str, tags: Sequence[str]) -> list[list[str]]:
        """The largest tag sets of the corpus that the situation covers (ties all returned).

        The model is conditioned on a tag set it saw in training, never on an unseen mix.
        """
        sets = {line.tags for line in self.fitting(persona, trigger, tags)}
        if not sets:
            return [sorted(tags)]
        best = max(len(tag_set) for tag_set in sets)
        return sorted(sorted(tag_set) for tag_set in sets if len(tag_set) == best)
