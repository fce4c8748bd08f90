"""Language checks on a candidate line: the failure classes of a small model, caught.

Each check takes a template (slots unfilled) and returns why it is not English the coach
may say, or None. They catch what judges heard in generated lines: a word said twice
("make today today"), a pair repeated ("the next the next"), a sentence without a verb
("Lovely the pace you."), an exercise name used where it needs a plural ("reps of
{exercise}"), and word sequences that no line of the corpus ever had (`NgramSupport`).
"""

import re
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import groupby

from edgecoach.coach.grams import GramTable, packed
from edgecoach.coach.lines import CorpusLine
from edgecoach.coach.vocabulary import BOS, EOS, split_tokens

WORD_RE = re.compile(r"\{[a-z_]+\}|[a-z]+(?:'[a-z]+)*|[.!?,:;]")
SENTENCE_RE = re.compile(r"[^.!?]+[.!?]*")
# A capitalized word inside a sentence: a name ("Alice", "EdgeCoach").
NAME_RE = re.compile(r"(?<=[a-z,;:] )[A-Z][a-z]+")
# Verbless fragments are good coaching English ("Heart at {hr}, strain {strain}."), so a
# verb is required only where a clause begins with its subject ("You the pace smooth.").
SUBJECTS = frozenset({"i", "you", "we", "they", "he", "she", "it"})
# "{reps} reps of {exercise}" says "reps of squat": an exercise slot needs a singular use.
EXERCISE_PLURAL_RE = re.compile(
    r"\b(of|more|all|those|these|many|few|to|on|for|with|into|at|onto|from|in)\s+"
    r"\{exercise\}|^\{exercise\} to\b|"
    r"\{exercise\}s\b|\{exercise\}\s+(are|were|have)\b", re.IGNORECASE)

# Subject and verb that do not agree, or two finite verbs in a row ("We've was").
AGREEMENT_RE = re.compile(
    r"'(ve|re|m)\s+(is|was|are|were|am|has|have)\b|\b(we|you|they)\s+(is|was|am|has)\b|"
    r"\bi\s+(is|are|has)\b|\b(he|she)\s+(are|am|were|have)\b", re.IGNORECASE)

# After a verb or a count, "{exercise}" needs a noun ("hit your squat", "twelve squat
# reps"): "Here comes squat", "Hit 12 dip." are not English.
EXERCISE_USE_RE = re.compile(r"(\{reps\}|[A-Za-z']+)?\s*\{exercise\}\s*([A-Za-z]+|[,:.!?;])?")
BARE_BEFORE = frozenset({"{reps}", "comes", "hit", "start", "starting", "up", "do", "doing",
                         "finish", "finished", "begin", "try", "own", "attack", "crush"})
EXERCISE_NOUNS = frozenset({
    "set", "sets", "rep", "reps", "work", "lap", "laps", "record", "best", "pr", "session",
    "round", "rounds", "interval", "intervals", "form", "technique", "pattern", "volume",
    "load", "bar", "effort", "block", "finisher", "opener", "numbers", "groove", "today"})

# Base forms of the verbs a coach uses; inflected forms are derived by `_inflections`.
_VERB_BASES = """
aim add ask attack bank be bear beat become begin believe bend block bounce brace break
breathe bring build burn call calm carry catch celebrate chase check cheer choose clear climb
close come commit control cool count cover crack crush cut deal deliver deserve dial dig do
drain drift drink drive drop earn ease eat empty end enjoy expect explode extend face fall
feel fight fill find finish fire fix float flow focus follow forget fuel get give go grab grind
grip grow guard handle hang happen have head hear help hit hold hop hurt hydrate keep kick
know land last lead lean learn leave let lie lift light lighten like listen live load lock log
look loosen lose love make manage matter mean meet mind miss move need notch note notice nudge
open own pace pause pay pick plan plant play power prepare press promise protect prove pull
push put raise reach read recharge recover redline refuel relax remember repeat reset respect
rest return ride rise roll row run rush save say see seal send serve set settle shake shape
show sip sit sleep slip slow smash smile soak soften speak spend sprint squeeze stack stand
start stay step stop stretch stride switch take talk tell thank think throw tick tighten
top touch track train treat trust try turn use wait wake walk want warm watch win wind work
worry wrap coach dig imagine opt sign write haul drag rebuild sink
"""
_IRREGULAR = """
am is are was were been being has had did does done went gone got gotten gave given took taken
made came kept felt found held led left lost meant met paid put read ran said saw seen sent set
sat slept spent stood stuck thought told threw won wound built brought bought caught chose
chosen fell fought grew known knew drove driven drank ate eaten hit shook shaken rose woke
began begun broke broken dug wrote written controlled controlling
can could will would shall should may might must
"""
# Contractions carry their verb: "you're", "let's", "that's", "we'll", "don't".
_CONTRACTION_RE = re.compile(r"'(re|s|ve|ll|m|d)$|n't$")


def _inflections(base: str) -> set[str]:
    stem = base[:-1] if base.endswith("e") and base not in ("be", "see") else base
    doubled = base + base[-1] if re.search(r"[^aeiou][aeiou][bdgmnpt]$", base) else base
    third = base + ("es" if re.search(r"(s|sh|ch|x|z|o)$", base) else "s")
    if re.search(r"[^aeiou]y$", base):
        third, past = base[:-1] + "ies", base[:-1] + "ied"
    else:
        past = (stem if base.endswith("e") else doubled) + "ed"
    return {base, third, past, (stem if base.endswith("e") else doubled) + "ing"}


VERBS = frozenset(
    {form for base in _VERB_BASES.split() for form in _inflections(base)}
    | set(_IRREGULAR.split()))


def words_of(text: str) -> list[str]:
    return WORD_RE.findall(text.lower())


def repeated_words(template: str) -> str | None:
    """A word said twice in a row ("today today"), a pair twice ("the next the next"), a
    sentence said again, or a name said twice ("I'm Alice, and I'm Alice")."""
    names = NAME_RE.findall(template)
    if twice := {name for name in names if names.count(name) > 1}:
        return f"says '{twice.pop()}' twice"
    if echo := echoed_sentence(template):
        return f"says '{echo}' again"
    words = words_of(template)
    for a, b in zip(words, words[1:], strict=False):
        if a == b and a[0].isalpha():
            return f"repeats '{a}'"
    for i in range(len(words) - 3):
        pair = words[i:i + 2]
        if pair == words[i + 2:i + 4] and all(w[0].isalpha() or w[0] == "{" for w in pair):
            return f"repeats '{words[i]} {words[i + 1]}'"
    return None


def echoed_sentence(template: str) -> str | None:
    """A sentence whose words an earlier sentence already said ("Light day, strain
    {strain}. Light day.")."""
    sentences = [[w for w in words_of(s) if w[0].isalpha() or w[0] == "{"]
                 for s in SENTENCE_RE.findall(template)]
    for i, words in enumerate(sentences):
        width = len(words)
        for earlier in sentences[:i] if width >= 2 else ():
            if any(earlier[j:j + width] == words for j in range(len(earlier) - width + 1)):
                return " ".join(words)
    return None


def has_verb(words: Iterable[str]) -> bool:
    return any(word in VERBS or _CONTRACTION_RE.search(word) for word in words)


def verbless_sentence(template: str) -> str | None:
    """A sentence that opens with a subject ("We", "You") but has no verb, or a "Let"
    with nothing to do ("Let the first few reps.")."""
    for sentence in SENTENCE_RE.findall(template):
        words = [w for w in words_of(sentence) if w[0].isalpha() or w[0] == "{"]
        if words and words[0] in SUBJECTS and not has_verb(words):
            return f"no verb in '{sentence.strip()}'"
        if words and words[0] == "let" and not has_verb(words[1:]):
            return f"nothing to let in '{sentence.strip()}'"
    return None


# A sentence that opens with a phrase of a preposition and joins a clause with "and",
# "so", "but" or "then" after a comma: "For our first session, and I'm glad you're here",
# "After two minutes, then let's go". Or that hangs praise on it: "With 9 hours of sleep,
# well done".
FRONTED_PHRASE_RE = re.compile(
    r"^\s*((for|with|without|after|before|at|on|in|from|under|over|during|through|by)\b"
    r"[^,]*),\s+(and|so|but|then)\b", re.IGNORECASE)
FRONTED_PRAISE_RE = re.compile(r"^\s*(with|after|for|at|on)\b[^,]*,\s+well done\b",
                               re.IGNORECASE)


# A sentence that is only such a phrase, with no comma before its clause: "After a longer
# pause." ("Under the zone at {hr}." and "On to lap {set}." are good coaching fragments:
# those prepositions are not here; "From now on ..." opens a clause of its own).
PHRASE_ONLY_RE = re.compile(r"^\s*(after|before|during|with|without|for|from)\b(?!\s+now on)"
                            r"[^,]*$", re.IGNORECASE)


def dangling_phrase(template: str) -> str | None:
    """A fronted phrase with no verb that hangs on a conjunction ("With strain at {strain},
    so let's rest."; "With strain at {strain} you have room, but ..." has its clause), or
    that stands alone as a sentence ("After a longer pause.")."""
    for sentence in SENTENCE_RE.findall(template):
        match = FRONTED_PHRASE_RE.search(sentence)
        if match and not has_verb(words_of(match.group(1))):
            return f"'{match.group(0).strip()}' hangs on nothing"
        if match := FRONTED_PRAISE_RE.search(sentence):
            return f"'{match.group(0).strip()}' hangs praise on a phrase"
        if PHRASE_ONLY_RE.search(sentence.strip()):
            return f"'{sentence.strip()}' is a phrase, not a sentence"
    return None


# "the {zone_low} to {zone_high}" names a range: a join that drops "range" leaves "into the
# 124 to 162."
BARE_RANGE_RE = re.compile(r"\bthe \{zone_low\} to \{zone_high\}(?! (range|zone|band)\b)",
                           re.IGNORECASE)
# ... or one that names it twice: "below our zone of 118 to 137 range".
DOUBLED_RANGE_RE = re.compile(r"\b(zone|range|band) of \{zone_low\} to \{zone_high\} "
                              r"(range|zone|band)\b", re.IGNORECASE)


def bare_range(template: str) -> str | None:
    """A range of numbers after "the" with no noun ("ease back into the 124 to 162"), or
    with two ("our zone of 118 to 137 range")."""
    if match := BARE_RANGE_RE.search(template):
        return f"'{match.group(0)}' needs 'range'"
    if match := DOUBLED_RANGE_RE.search(template):
        return f"'{match.group(0)}' names the range twice"
    return None


def disagreement(template: str) -> str | None:
    """A subject and verb that do not agree ("we is", "we've was")."""
    if match := AGREEMENT_RE.search(template):
        return f"'{match.group(0)}' does not agree"
    return None


def exercise_number(template: str) -> str | None:
    """An exercise slot where English needs the plural ("reps of {exercise}"), or a bare
    name with no determiner and no noun after it ("Here comes {exercise}.")."""
    if match := EXERCISE_PLURAL_RE.search(template):
        return f"'{match.group(0)}' needs a plural exercise name"
    for match in EXERCISE_USE_RE.finditer(template):
        before, after = (match.group(1) or "").lower(), (match.group(2) or "").lower()
        if before in BARE_BEFORE and after not in EXERCISE_NOUNS:
            return f"'{match.group(0).strip()}' needs 'your' or a noun after the exercise"
    return None


SLOT_NAME_RE = re.compile(r"\{([a-z_]+)\}")

# Sentences a join gets wrong more often than right, allowed only as someone wrote them:
# one that ends on a pronoun, whose referent a seam may have cut off ("and you paced it.",
# "we'll build on it."); one that opens with "Make", whose complement a seam may have cut
# off ("Make these {reps} reps."); and one that says a content word again a few words on
# ("Slow your breathing and let your breathing settle"; written parallels such as "Steady
# heart, steady hands" fall within one piece).
PRONOUN_END_RE = re.compile(r"\b(it|them|ones?|that|this)\s*[.!?]*$", re.IGNORECASE)
NEEDS_COMPLEMENT_RE = re.compile(r"^\s*make\b", re.IGNORECASE)
# Lines a join gets wrong: a later sentence that refers back to an earlier one's nouns
# ("Starting line. Today you set the first ones." took "ones" from a line about numbers),
# or says one of its content words again ("Solid day at strain {strain}. Solid work.").
BACK_REFERENCE_RE = re.compile(r"\b(ones|them|they|those)\b", re.IGNORECASE)
_FUNCTION_WORDS = """
the a an and to of in on at for your you we it is that this with be as so but then now all
one more let's let up down out are was can not has had its our off too may how why who any
few own way yet nor did get got per his her him she they them their there here what when
where which will just very been have
"""
FUNCTION_WORDS = frozenset(_FUNCTION_WORDS.split())
ECHO_DISTANCE = 4  # words apart: closer repeats are inside one written piece


def is_content(word: str) -> bool:
    return word[0].isalpha() and len(word) >= 3 and word not in FUNCTION_WORDS


def echoed_word(sentence: str) -> str | None:
    """A content word the sentence says again at least ECHO_DISTANCE words on."""
    first_seen: dict[str, int] = {}
    for i, word in enumerate(words_of(sentence)):
        if not is_content(word):
            continue
        if i - first_seen.setdefault(word, i) >= ECHO_DISTANCE:
            return word
    return None


def risky_line(text: str) -> str | None:
    """Why a line of several sentences is right only as written, or None."""
    said: set[str] = set()
    for i, sentence in enumerate(SENTENCE_RE.findall(text)):
        if i and (match := BACK_REFERENCE_RE.search(sentence)):
            return f"refers back with '{match.group(0)}'"
        words = {word for word in words_of(sentence) if is_content(word)}
        if again := words & said:
            return f"says '{min(again)}' again in another sentence"
        said |= words
    return None


def risky_sentence(sentence: str) -> str | None:
    """Why a sentence is right only as written, or None."""
    if PRONOUN_END_RE.search(sentence):
        return "ends on a pronoun"
    if NEEDS_COMPLEMENT_RE.search(sentence):
        return "opens with 'Make'"
    if word := echoed_word(sentence):
        return f"says '{word}' twice"
    return None


def sentence_key(sentence: str) -> str:
    return " ".join(words_of(sentence))


# Tags that call for care: a line written without one gives the other tags' advice ("You're
# fresh, push harder" for low strain, after a short night), so where the situation has
# one, only lines that have it too may lend their pieces.
MUST_CARRY = frozenset({"short-sleep", "strain-high", "strain-peak", "hr-max"})


@dataclass(frozen=True, slots=True)
class Situation:
    """What a line is for: its tags, and the slots its context can fill."""

    tags: frozenset[str] = frozenset()
    slots: frozenset[str] = frozenset()

    def admits(self, line: "Situation") -> bool:
        """A line written for a subset of these tags that carries every tag calling for
        care, and whose slots can all be filled."""
        return (line.tags <= self.tags and self.tags & MUST_CARRY <= line.tags
                and line.slots <= self.slots)


UNKNOWN = -1  # the id of a token no line of the corpus has


class NgramSupport:
    """Which token may follow the last n-1 tokens, in the corpus lines of a situation.

    Tokens are the model's own (`split_tokens`: words with their leading space, case
    kept). A line all of whose n-grams occur in lines of its group is made of pieces a
    person wrote, joined where they overlap by n-1 tokens: local grammar holds at every
    seam. A group is (persona, trigger), and only the lines the situation admits lend
    their pieces: no "Back off" from a hard heart rate's line in an easy one, no "well
    rested" from a good night's line when sleep is unknown, no piece that leads only into
    a slot the context cannot fill. The generator decodes under this constraint
    (`allowed`), and checks any other text with `unsupported`.
    """

    def __init__(self, n: int = 4, orders: Mapping[str, int] | None = None) -> None:
        self.n = n
        self.orders = dict(orders or {})  # trigger -> its own n
        # Tokens as ids (their index in `_tokens`), n-grams in a compact table per group.
        self._tokens: list[str] = []
        self._ids: dict[str, int] = {}
        self._tables: dict[tuple[str, str], GramTable] = {}
        # lines added since the group's table was built: (padded token ids, situation bit)
        self._pending: dict[tuple[str, str], list[tuple[array, int]]] = {}
        # group -> the situations of its lines, each with its bit in the table's masks
        self._situations: dict[tuple[str, str], dict[Situation, int]] = {}
        self._admitted: dict[tuple[tuple[str, str], Situation], int] = {}
        # keys of written risky sentences, and of written lines that echo a word
        self._risky_written: set[str] = set()

    @classmethod
    def of_lines(cls, lines: Iterable[CorpusLine],
                 orders: Mapping[str, int] | None = None) -> "NgramSupport":
        """The support of corpus lines, every table built (not at a group's first query),
        each once its lines are in: a group's lines held as ids for a while, not all."""
        support = cls(orders=orders)
        by_group = sorted(lines, key=lambda line: (line.persona, line.trigger))  # stable
        for group, run in groupby(by_group, key=lambda line: (line.persona, line.trigger)):
            for line in run:
                support.add(group, line.text, line.tags)
            support._table(group)
        return support

    def order(self, group: tuple[str, str]) -> int:
        return self.orders.get(group[1], self.n)

    def _id(self, token: str) -> int:
        if token not in self._ids:
            self._ids[token] = len(self._tokens)
            self._tokens.append(token)
        return self._ids[token]

    def add(self, group: tuple[str, str], text: str,
            tags: frozenset[str] = frozenset()) -> None:
        written_for = Situation(tags, frozenset(SLOT_NAME_RE.findall(text)))
        known = self._situations.setdefault(group, {})
        bit = known.setdefault(written_for, len(known))
        n = self.order(group)
        padded = [BOS] * (n - 1) + split_tokens(text) + [EOS]
        self._pending.setdefault(group, []).append((array("i", map(self._id, padded)), bit))
        self._risky_written.update(sentence_key(sentence) for sentence in SENTENCE_RE.findall(text)
                                   if risky_sentence(sentence))
        if risky_line(text):
            self._risky_written.add(sentence_key(text))
        self._admitted.clear()

    def _table(self, group: tuple[str, str]) -> GramTable | None:
        """The group's table, built again first if lines were added to the group."""
        if group in self._pending:
            n = self.order(group)
            bits = max(1, (len(self._tokens) - 1).bit_length())  # for every id so far
            built = self._tables.get(group)
            masks = {packed(ids, bits): mask for ids, mask in built.grams()} if built else {}
            last_n = (1 << n * bits) - 1
            for ids, bit in self._pending.pop(group):
                key = 0
                for i, token in enumerate(ids):  # each n-gram's key, as the line rolls on
                    key = (key << bits | token) & last_n
                    if i >= n - 1:
                        masks[key] = masks.get(key, 0) | 1 << bit
            self._tables[group] = GramTable.build(n, bits, masks)
        return self._tables.get(group)

    def _mask(self, group: tuple[str, str], situation: Situation) -> int:
        """The bits of the group's situations whose lines this situation admits."""
        key = (group, situation)
        if key not in self._admitted:
            self._admitted[key] = sum(1 << bit for line, bit in
                                      self._situations.get(group, {}).items()
                                      if situation.admits(line))
        return self._admitted[key]

    def allowed(self, group: tuple[str, str], tokens: Sequence[str],
                situation: Situation) -> set[str]:
        """The tokens (EOS included) that the group's lines the situation admits have
        after these line tokens."""
        width = self.order(group) - 1
        context = ([BOS] * width + list(tokens))[-width:]
        table = self._table(group)
        if table is None or any(token not in self._ids for token in context):
            return set()
        ids = [self._ids[token] for token in context]
        return {self._tokens[i] for i in table.followers(ids, self._mask(group, situation))}

    def unsupported(self, group: tuple[str, str], text: str,
                    situation: Situation) -> str | None:
        n = self.order(group)
        tokens = split_tokens(text) + [EOS]
        table = self._table(group)
        padded = [BOS] * (n - 1) + tokens
        ids = [self._ids.get(token, UNKNOWN) for token in padded]
        mask = self._mask(group, situation)
        said = table.supported(ids, mask) if table else [False] * len(tokens)
        for i, known in enumerate(said):  # the n-gram that ends with tokens[i]
            if not known:
                seen = "".join(tokens[max(0, i - n + 1):i + 1])
                return f"unseen words '{seen.strip()}'"
        return self.unwritten_risk(text)

    def unwritten_risk(self, text: str) -> str | None:
        """A risky sentence (`risky_sentence`) or line (`risky_line`) that no corpus line
        has as it stands."""
        for sentence in SENTENCE_RE.findall(text):
            risk = risky_sentence(sentence)
            if risk and sentence_key(sentence) not in self._risky_written:
                return f"'{sentence.strip()}' {risk}, and no one wrote it so"
        if (risk := risky_line(text)) and sentence_key(text) not in self._risky_written:
            return f"{risk}, and no one wrote it so"
        return None


def language_problem(template: str) -> str | None:
    """The first failure of the corpus-independent checks, or None."""
    return (repeated_words(template) or verbless_sentence(template)
            or dangling_phrase(template) or disagreement(template) or exercise_number(template)
            or bare_range(template))
