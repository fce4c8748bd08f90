"""The coaching corpus: CORPUS_SPEC.md's rules, its size, and every combination covered."""

import random

from training import check_corpus
from training.coverage import MIN_LINES, combinations, shortfall
from training.data import PERSONAS, batch_order, controls_of, examples, read_corpus

from edgecoach.coach.vocabulary import Vocabulary

ROWS = read_corpus()


def test_corpus_passes_its_checker(capsys) -> None:
    assert check_corpus.main(["-q"]) == 0, capsys.readouterr().out[-3000:]


def test_corpus_is_large_enough_to_learn_english_from() -> None:
    assert len(ROWS) >= 8000
    for persona in PERSONAS:
        assert sum(row["persona"] == persona for row in ROWS) >= 4000, persona


def test_every_combination_the_daemon_can_give_has_lines_of_each_persona() -> None:
    assert len(combinations()) >= 150  # the walk reaches every branch of situation_tags
    short = shortfall(ROWS)
    assert not short, f"{len(short)} short of {MIN_LINES}, e.g. {sorted(short.items())[:3]}"


def test_shortfall_sees_a_missing_combination() -> None:
    rows = [row for row in ROWS if not (row["trigger"] == "hr-zone"
                                        and row["tags"] == ["above-zone"])]
    assert ("alice", ("hr-zone", ("above-zone",))) in shortfall(rows)


def test_training_batches_take_every_line_once_and_pad_less_than_random() -> None:
    vocabulary = Vocabulary.build((row["text"] for row in ROWS), controls_of(ROWS))
    items = examples(ROWS, vocabulary)
    bucketed = batch_order(items, 64, random.Random(1))
    assert sorted(i for batch in bucketed for i in batch) == list(range(len(items)))

    def padding_share(order: list[list[int]]) -> float:
        used = sum(len(items[i].ids) for batch in order for i in batch)
        padded = sum(max(len(items[i].ids) for i in batch) * len(batch) for batch in order)
        return 1 - used / padded

    shuffled = list(range(len(items)))
    random.Random(1).shuffle(shuffled)
    plain = [shuffled[at:at + 64] for at in range(0, len(shuffled), 64)]
    assert padding_share(bucketed) < padding_share(plain) / 3
