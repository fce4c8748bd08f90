"""Does a candidate's advice point the way the situation does? A classifier from the corpus.

The corpus lines are labelled by their tags, so a naive Bayes model over their words
learns what "heart rate high" advice sounds like ("bring it down", "take the full rest")
and what "below the zone" advice sounds like ("pick it up"). A candidate that the model
reads, with confidence, as advice for the opposite direction of the real situation is
rejected: "we're aiming higher" above the zone, "Back off" with an easy heart rate.
"""

import math
import re
from array import array
from collections.abc import Collection, Iterable

import numpy as np

from edgecoach.coach.language import SENTENCE_RE
from edgecoach.coach.lines import CorpusLine

# Each question: the answers a line can give, as the tags behind each. The direction
# questions (low / high) catch advice the wrong way round; the band questions catch a
# line that names the wrong band ("working hard" at a steady heart rate).
DIRECTIONS: dict[str, dict[str, frozenset[str]]] = {
    "heart rate": {"low": frozenset({"hr-easy", "hr-steady"}),
                   "high": frozenset({"hr-hard", "hr-max"})},
    "heart rate band": {tag[3:]: frozenset({tag}) for tag in
                        ("hr-easy", "hr-steady", "hr-hard", "hr-max")},
    "zone": {"above": frozenset({"above-zone"}), "below": frozenset({"below-zone"})},
    "strain": {"low": frozenset({"strain-low", "strain-mid"}),
               "high": frozenset({"strain-high", "strain-peak"})},
    "strain band": {tag[7:]: frozenset({tag}) for tag in
                    ("strain-low", "strain-mid", "strain-high", "strain-peak")},
    "sleep": {"short": frozenset({"short-sleep"}), "good": frozenset({"good-sleep"})},
}
NEUTRAL = "neutral"
# Words that name the other side outright: checked before the classifier's reading.
CONTRADICTIONS: dict[str, re.Pattern[str]] = {
    "above-zone": re.compile(
        r"\b(below|under) (the |our |your )?(zone|range|target)\b|\bbelow \{zone_low\}|"
        r"\b(drifted|dropped|fallen) (down|low)\b", re.IGNORECASE),
    "below-zone": re.compile(
        r"\b(above|over) (the |our |your )?(zone|range|target)\b|\btoo high\b|"
        r"\babove \{zone_high\}", re.IGNORECASE),
    "short-sleep": re.compile(r"\bfull night|\bwell rested\b|\bslept well\b|\bgood sleep\b|"
                              r"\bfresh (legs|mind|body)\b|\brecharged?\b", re.IGNORECASE),
    "good-sleep": re.compile(r"\bshort night\b|\blittle sleep\b|\blow on sleep\b|\btired\b",
                             re.IGNORECASE),
}
# In a sentence about the day's strain (not the heart), band words that the band is not.
STRAIN_BAND_TRIGGERS = frozenset({"strainsync", "workout-end"})
WRONG_BAND_WORDS: dict[str, re.Pattern[str]] = {
    "strain-low": re.compile(r"\b(middle|mid|high|peak|top|maxed)\b", re.IGNORECASE),
    "strain-mid": re.compile(r"\b(peak|top|maxed)\b", re.IGNORECASE),
    "strain-high": re.compile(r"\blow\b", re.IGNORECASE),
    "strain-peak": re.compile(r"\b(low|middle|mid)\b", re.IGNORECASE),
}
HEART_RE = re.compile(r"\b(heart|pulse|beats)\b|\{hr\}|\{peak_hr\}", re.IGNORECASE)
CONFIDENCE = 0.95  # posterior above which the classifier's reading rejects a candidate
TOKEN_RE = re.compile(r"\{[a-z_]+\}|[a-z']+|\d+(?:\.\d+)?|[!?]")


def feature_words(text: str) -> list[str]:
    """The words of a text; a slot and a number are one word ("<n>"), so a line reads the
    same before and after its slots are filled."""
    return ["<n>" if token[0].isdigit() or token[0] == "{" else token
            for token in TOKEN_RE.findall(text.lower())]


class FeatureIds:
    """A text's features, its word unigrams then its bigrams, as int64 keys: a word's id,
    or a pair of ids. Shared by the classifiers of a check, so each word is stored once."""

    UNKNOWN = -1  # a feature with a word never seen: no classifier has it

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}

    def keys(self, text: str, learn: bool = False) -> list[int]:
        """The features' keys, in order; with `learn`, new words get ids."""
        words = feature_words(text)
        if learn:
            for word in words:
                self._ids.setdefault(word, len(self._ids))
        ids = [self._ids.get(word, self.UNKNOWN) for word in words]
        pairs = [(a + 1) << 32 | b if a >= 0 and b >= 0 else self.UNKNOWN
                 for a, b in zip(ids, ids[1:], strict=False)]
        return ids + pairs


class NaiveBayes:
    """Multinomial naive Bayes with add-one smoothing over word unigrams and bigrams.

    Each label's counts are a row of one int32 array, a column per known feature (sorted
    keys): a Counter of feature strings per label held 8 MB for the checks of the corpus.
    """

    def __init__(self, labelled: Iterable[tuple[str, str]],
                 feature_ids: FeatureIds | None = None) -> None:
        self.feature_ids = feature_ids or FeatureIds()
        rows: dict[str, int] = {}  # label -> its row, in the order labels first come
        priors: list[int] = []
        keys, key_rows = array("q"), array("q")  # no int object per feature seen
        for label, text in labelled:
            row = rows.setdefault(label, len(rows))
            if row == len(priors):
                priors.append(0)
            priors[row] += 1
            line_keys = self.feature_ids.keys(text, learn=True)
            keys.extend(line_keys)
            key_rows.extend([row] * len(line_keys))
        self.labels = list(rows)
        self.priors = priors
        self._known, columns = np.unique(np.frombuffer(keys, np.int64), return_inverse=True)
        self._counts = np.zeros((len(rows), len(self._known)), dtype=np.int32)
        np.add.at(self._counts, (np.frombuffer(key_rows, np.int64), columns), 1)
        self._totals = (self._counts.sum(axis=1) + len(self._known)).tolist()

    def log_scores(self, text: str) -> dict[str, float]:
        total = sum(self.priors)
        keys = np.array(self.feature_ids.keys(text), dtype=np.int64)
        columns = np.minimum(np.searchsorted(self._known, keys), len(self._known) - 1)
        known = columns[self._known[columns] == keys]
        # summed in Python, feature by feature, as the scores always were
        return {label: math.log(prior / total) + sum(
            math.log((count + 1) / label_total) for count in row)
            for label, prior, label_total, row
            in zip(self.labels, self.priors, self._totals, self._counts[:, known].tolist(),
                   strict=True)}

    def posterior(self, text: str) -> dict[str, float]:
        scores = self.log_scores(text)
        top = max(scores.values())
        weights = {label: math.exp(score - top) for label, score in scores.items()}
        norm = sum(weights.values())
        return {label: weight / norm for label, weight in weights.items()}

    def predict(self, text: str) -> str:
        scores = self.log_scores(text)
        return max(scores, key=scores.__getitem__)


def direction_of(question: str, tags: Collection[str]) -> str | None:
    for direction, members in DIRECTIONS[question].items():
        if members & set(tags):
            return direction
    return None


class SituationCheck:
    """One classifier per (trigger, direction question) that the corpus has both ways of."""

    def __init__(self, lines: Iterable[CorpusLine]) -> None:
        by_trigger: dict[str, list[CorpusLine]] = {}
        for line in lines:
            by_trigger.setdefault(line.trigger, []).append(line)
        feature_ids = FeatureIds()
        self._models: dict[tuple[str, str], NaiveBayes] = {}
        for trigger, written in by_trigger.items():
            for question in DIRECTIONS:
                labels = [direction_of(question, line.tags) or NEUTRAL for line in written]
                if len(set(labels) - {NEUTRAL}) >= 2:
                    self._models[(trigger, question)] = NaiveBayes(
                        zip(labels, (line.text for line in written), strict=True), feature_ids)

    def problem(self, trigger: str, template: str, tags: Collection[str]) -> str | None:
        """Why the template's advice contradicts the situation, or None."""
        return (contradiction(trigger, template, tags)
                or self._heard_against(trigger, template, tags))

    def _heard_against(self, trigger: str, template: str, tags: Collection[str]) -> str | None:
        for question in DIRECTIONS:
            model = self._models.get((trigger, question))
            actual = direction_of(question, tags)
            if model is None or actual is None:
                continue
            posterior = model.posterior(template)
            heard = max(posterior, key=posterior.__getitem__)
            if heard not in (actual, NEUTRAL) and posterior[heard] >= CONFIDENCE:
                return f"sounds like {question} {heard}, situation is {actual}"
        return None


def contradiction(trigger: str, template: str, tags: Collection[str]) -> str | None:
    """A zone or a strain band named outright that is not the situation's."""
    for tag, pattern in CONTRADICTIONS.items():
        if tag in tags and (match := pattern.search(template)):
            return f"says '{match.group(0)}' when {tag}"
    band = next((tag for tag in WRONG_BAND_WORDS if tag in tags), None)
    if band is None or trigger not in STRAIN_BAND_TRIGGERS:
        return None
    for sentence in SENTENCE_RE.findall(template):
        about_strain = "strain" in sentence.lower() and not HEART_RE.search(sentence)
        if about_strain and (match := WRONG_BAND_WORDS[band].search(sentence)):
            return f"calls strain '{match.group(0)}' when {band}"
    return None
