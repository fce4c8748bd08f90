"""What the daemon keeps in memory (its RSS budget under load: docs/pi.md)."""

import random
import subprocess
import sys

from edgecoach.bench.model import random_context
from edgecoach.catalog import load_catalog
from edgecoach.coach import LineGenerator, situation_tags
from edgecoach.coach.generator import ALLOWED_CACHE_SITUATIONS
from edgecoach.contract import PERSONA_IDS, TRIGGER_IDS
from edgecoach.paths import CONFIG_DIR, MODELS_DIR

# 27 MB as sets of separate strings, 11 MB as tuples of interned tokens, 17.4 MB with each
# follower's situations, 2.7 MB as sorted packed ids with an index of their situations.
NGRAM_BUDGET_MB = 3.5
SITUATION_BUDGET_MB = 2  # 10 MB of strings, 8 MB interned, 1.4 MB as int64 keys and counts
BANK_BUDGET_MB = 2.5  # 5.9 MB with a __dict__ and a tag set per line, 1.7 MB shared
# The loaded coach and its first lines, RSS in a fresh interpreter after the imports:
# 49.7 MB before the compact tables, 23.4 MB after, of which about 10 MB is onnxruntime's
# one-time set-up (its first session; the voice's sessions would pay it otherwise).
COACH_BUDGET_MB = 27

NGRAM_PROBE = """
import tracemalloc
from edgecoach.coach.generator import LONGER_JOINS
from edgecoach.coach.language import NgramSupport, Situation
from edgecoach.coach.lines import LineBank
from edgecoach.coach.model import LINES_FILE
from edgecoach.paths import MODELS_DIR
bank = LineBank.load(MODELS_DIR / "coach" / LINES_FILE)
tracemalloc.start()
support = NgramSupport.of_lines(bank.lines, orders=LONGER_JOINS)
print(tracemalloc.get_traced_memory()[0] / 2**20)
first = bank.lines[0]
everything = Situation(first.tags, frozenset({"hr", "rest", "reps", "weight", "exercise",
                                              "set", "strain", "sleep", "duration"}))
assert support.unsupported((first.persona, first.trigger), first.text, everything) is None
"""

SITUATION_PROBE = """
import tracemalloc
from edgecoach.coach.lines import LineBank
from edgecoach.coach.model import LINES_FILE
from edgecoach.coach.situation import SituationCheck
from edgecoach.paths import MODELS_DIR
bank = LineBank.load(MODELS_DIR / "coach" / LINES_FILE)
tracemalloc.start()
check = SituationCheck(bank.lines)
print(tracemalloc.get_traced_memory()[0] / 2**20)
"""


BANK_PROBE = """
import tracemalloc
from edgecoach.coach.lines import LineBank
from edgecoach.coach.model import LINES_FILE
from edgecoach.paths import MODELS_DIR
tracemalloc.start()
bank = LineBank.load(MODELS_DIR / "coach" / LINES_FILE)
print(tracemalloc.get_traced_memory()[0] / 2**20)
"""

COACH_PROBE = """
import gc
import random

import numpy, onnxruntime  # the imports are not the coach's

from edgecoach.bench.model import random_context
from edgecoach.catalog import load_catalog
from edgecoach.coach import LineGenerator, situation_tags
from edgecoach.contract import PERSONA_IDS, TRIGGER_IDS
from edgecoach.memory import release_freed_heap
from edgecoach.paths import CONFIG_DIR, MODELS_DIR

def rss_mb():
    gc.collect()
    release_freed_heap()
    with open("/proc/self/status") as status:
        return next(int(row.split()[1]) for row in status if row.startswith("VmRSS")) / 1024

catalog = load_catalog(CONFIG_DIR)
before = rss_mb()
generator = LineGenerator.load(MODELS_DIR, personas=catalog.personas)
for number in range(2 * len(TRIGGER_IDS)):
    persona, trigger = PERSONA_IDS[number % 2], TRIGGER_IDS[number % len(TRIGGER_IDS)]
    context = random_context(trigger, random.Random(number))
    generator.generate(persona, catalog.trigger(trigger), context,
                       situation_tags(trigger, context), seed=number, recent=[])
print(rss_mb() - before)
"""


def held_mb(probe: str) -> float:
    """What a probe holds, counted in a fresh interpreter: what earlier tests left behind
    (threads still allocating, interned strings) blurs an in-process count."""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120, check=True)
    return float(done.stdout)


def test_the_corpus_ngram_table_stays_within_its_budget() -> None:
    held = held_mb(NGRAM_PROBE)
    assert held < NGRAM_BUDGET_MB, f"{held:.1f} MB"


def test_the_situation_check_stays_within_its_budget() -> None:
    held = held_mb(SITUATION_PROBE)
    assert held < SITUATION_BUDGET_MB, f"{held:.1f} MB"


def test_the_corpus_lines_stay_within_their_budget() -> None:
    held = held_mb(BANK_PROBE)
    assert held < BANK_BUDGET_MB, f"{held:.1f} MB"


def test_the_loaded_coach_stays_within_its_budget() -> None:
    """Model session, corpus lines, n-gram table, situation check, and what the first
    line of each persona and trigger allocates and keeps."""
    held = held_mb(COACH_PROBE)
    assert held < COACH_BUDGET_MB, f"{held:.1f} MB"


# Imported only where they are used: the running daemon needs none of them.
NOT_AT_RUN_TIME = ("tokenizers", "fitdecode", "torch", "pedalboard")


def test_the_daemon_imports_no_module_it_does_not_run() -> None:
    probe = ("import sys, edgecoach.cli, edgecoach.daemon; "
             f"print(sorted(set({NOT_AT_RUN_TIME!r}) & set(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.strip() == "[]"


def test_the_generators_cache_of_allowed_tokens_stays_bounded() -> None:
    """Every new situation made a cache of its own, kept for ever; now the most recent
    ALLOWED_CACHE_SITUATIONS stay, and a line evicted from it is written the same again."""
    catalog = load_catalog(CONFIG_DIR)
    generator = LineGenerator.load(MODELS_DIR, personas=catalog.personas)
    rng = random.Random(16)

    def line(number: int) -> str:
        persona, trigger = PERSONA_IDS[number % 2], TRIGGER_IDS[number % len(TRIGGER_IDS)]
        context = random_context(trigger, random.Random(number))
        return generator.generate(persona, catalog.trigger(trigger), context,
                                  situation_tags(trigger, context), seed=number,
                                  recent=[]).text

    first = line(0)
    seen = set()
    for number in rng.sample(range(1, 10_000), 3 * ALLOWED_CACHE_SITUATIONS):
        line(number)
        seen |= generator._allowed_ids.keys()
        assert len(generator._allowed_ids) <= ALLOWED_CACHE_SITUATIONS
    assert len(seen) > ALLOWED_CACHE_SITUATIONS  # the bound was really reached
    assert line(0) == first
