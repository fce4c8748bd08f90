"""The n-gram table's compact form answers as a plain reading of the lines does."""

import random

from edgecoach.coach.language import SLOT_NAME_RE, NgramSupport, Situation
from edgecoach.coach.lines import CorpusLine, LineBank
from edgecoach.coach.vocabulary import BOS, EOS, split_tokens
from edgecoach.paths import MODELS_DIR

BANK = LineBank.load(MODELS_DIR / "coach" / "lines.jsonl")
SLOTS = frozenset({"hr", "rest", "reps", "weight", "exercise", "set", "strain", "sleep",
                   "duration", "zone_low", "zone_high"})


def written_after(lines: list[CorpusLine], n: int, context: list[str],
                  situation: Situation) -> set[str]:
    """What follows the context in the lines the situation admits, read from their text."""
    following = set()
    for line in lines:
        written_for = Situation(line.tags, frozenset(SLOT_NAME_RE.findall(line.text)))
        if not situation.admits(written_for):
            continue
        padded = [BOS] * (n - 1) + split_tokens(line.text) + [EOS]
        following |= {padded[i + n - 1] for i in range(len(padded) - n + 1)
                      if padded[i:i + n - 1] == context}
    return following


def test_the_table_gives_the_followers_a_plain_reading_of_the_corpus_gives() -> None:
    group = ("aiden", "set-end")
    lines = BANK.of(*group)
    support = NgramSupport.of_lines(lines)
    rng = random.Random(16)
    tag_sets = sorted({line.tags for line in lines}, key=sorted)
    for line in rng.sample(lines, 40):
        tokens = split_tokens(line.text)
        cut = rng.randrange(len(tokens) + 1)
        context = ([BOS] * 3 + tokens[:cut])[-3:]
        situation = Situation(rng.choice(tag_sets) | line.tags,
                              frozenset(rng.sample(sorted(SLOTS), 6)))
        assert support.allowed(group, tokens[:cut], situation) == written_after(
            lines, 4, context, situation), (line.text, cut)


def test_lines_added_after_a_question_count_as_if_added_first() -> None:
    group = ("alice", "strainsync")
    lines = BANK.of(*group)
    at_once = NgramSupport.of_lines(lines)
    in_turn = NgramSupport()
    anything = Situation(frozenset().union(*(line.tags for line in lines)), SLOTS)
    for number, line in enumerate(lines):
        in_turn.add(group, line.text, line.tags)
        if number % 97 == 0:  # a table built, then built again with more lines
            in_turn.unsupported(group, line.text, anything)
    for line in lines[::7]:
        situation = Situation(line.tags, SLOTS)
        for cut in range(len(split_tokens(line.text))):
            context = split_tokens(line.text)[:cut]
            assert in_turn.allowed(group, context, situation) == at_once.allowed(
                group, context, situation)


def test_a_group_of_more_than_64_situations_keeps_each_apart() -> None:
    """Each situation is one bit of a packed mask: the 70th is in the second word."""
    support = NgramSupport(n=3)
    group = ("aiden", "set-start")
    names = ["".join(chr(ord("a") + int(digit)) for digit in f"x{number:02}"[1:])
             for number in range(70)]  # a word per line: "aa", "ab", ... "gj"
    for number, name in enumerate(names):
        support.add(group, f"Set {name}. Go.", frozenset({f"tag-{number}"}))
    seventieth = Situation(frozenset({"tag-69"}))
    assert support.allowed(group, ["Set"], seventieth) == {" gj"}
    assert support.unsupported(group, "Set gj. Go.", seventieth) is None
    assert support.unsupported(group, "Set ad. Go.", seventieth) == "unseen words 'Set ad'"
    both = Situation(frozenset({"tag-3", "tag-69"}))
    assert support.allowed(group, ["Set"], both) == {" ad", " gj"}


def test_a_word_the_corpus_never_had_is_unsupported() -> None:
    support = NgramSupport.of_lines(BANK.of("aiden", "set-end"))
    anything = Situation(frozenset({"strength", "hr-easy"}), SLOTS)
    assert support.unsupported(("aiden", "set-end"), "Good set. Zorbleflax.", anything) == (
        "unseen words 'Good set. Zorbleflax'")
    assert support.allowed(("aiden", "set-end"), ["Zorbleflax"], anything) == set()


def test_n_grams_too_long_for_one_machine_word_still_answer() -> None:
    """30 ids of 5 bits do not fit in 63 bits: the keys are then Python ints in a list."""
    support = NgramSupport(n=30)
    group = ("alice", "onboarding")
    written = "Hello there, and welcome to the very first session of many more sessions to come."
    support.add(group, written)
    support.add(group, "Hello there, and welcome back.")
    table = support._table(group)
    assert table is not None and isinstance(table.keys, list)
    assert support.unsupported(group, written, Situation()) is None
    assert support.allowed(group, split_tokens("Hello there, and welcome"), Situation()) == {
        " to", " back"}
    assert support.unsupported(group, "Hello there, and welcome to the very first session.",
                               Situation())
