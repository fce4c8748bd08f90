"""A persona's personality values steer which candidate line is spoken.

The built-in model writes in the persona's voice from its corpus; among the candidates
that pass every check, the ranking adds how well each one's measurable style matches the
persona's personality vector (config/personas.toml): exclamations for enthusiasm, warm
words for supportiveness, orders and short sentences for directness. Zeroing a value
moves the choice away from lines that show it (tested).
"""

from collections.abc import Mapping
from dataclasses import dataclass

from edgecoach.coach.language import SENTENCE_RE, VERBS, words_of

WARM_WORDS = frozenset({
    "we", "we're", "we've", "we'll", "let's", "us", "our", "lovely", "proud", "breathe",
    "gently", "gentle", "nice", "together", "kind", "kindly", "beautiful", "beautifully",
    "wonderful", "well", "please", "enjoy", "care", "easy", "smile", "thank",
})
LONG_LINE_WORDS = 20  # a line this long counts as fully "long" for directness
STYLE_WEIGHT = 0.6  # how much style may outweigh the model's per-token log-probability


@dataclass(frozen=True)
class StyleFeatures:
    """Shares in [0, 1] measured on one line."""

    exclamation: float  # sentences ending with "!"
    warmth: float  # warm words per word, scaled
    imperative: float  # sentences opening with a verb ("Breathe.", "Lock in.")
    length: float  # words / LONG_LINE_WORDS, capped

    @classmethod
    def of(cls, text: str) -> "StyleFeatures":
        sentences = [s.strip() for s in SENTENCE_RE.findall(text) if s.strip()]
        words = [w for w in words_of(text) if w[0].isalpha()]
        if not sentences or not words:
            return cls(0.0, 0.0, 0.0, 0.0)
        openers = [words_of(s)[0] for s in sentences if words_of(s)]
        return cls(
            exclamation=sum(s.endswith("!") for s in sentences) / len(sentences),
            warmth=min(1.0, 4 * sum(w in WARM_WORDS for w in words) / len(words)),
            imperative=sum(w in VERBS for w in openers) / len(sentences),
            length=min(1.0, len(words) / LONG_LINE_WORDS))


def style_score(text: str, personality: Mapping[str, float]) -> float:
    """Higher when the line shows what the personality values ask for (0 values: neutral)."""
    f = StyleFeatures.of(text)
    enthusiasm = personality.get("enthusiasm", 0.5)
    supportiveness = personality.get("supportiveness", 0.5)
    directness = personality.get("directness", 0.5)
    return ((enthusiasm - 0.5) * f.exclamation
            + (supportiveness - 0.5) * f.warmth
            + (directness - 0.5) * (f.imperative + (1 - f.length)) / 2)
