"""Every trigger x tag combination the daemon can give, and how many corpus lines cover each.

`situation_tags` decides the tags at run time; this walks contexts that reach every branch
of it, so the corpus can be held to "every combination the daemon can produce has at least
MIN_LINES lines per persona, tagged exactly so" (CORPUS_SPEC.md).

    python -m training.coverage      prints the combinations short of MIN_LINES
"""

import itertools
from collections import Counter

from edgecoach.coach.tags import situation_tags
from edgecoach.contract import WorkoutContext
from training.data import PERSONAS, read_corpus

MIN_LINES = 20
Combination = tuple[str, tuple[str, ...]]


def _contexts() -> dict[str, list[WorkoutContext]]:
    kinds = [{"exercise": "squat", "reps": 5, "weight": 100.0}, {"exercise": "dip", "reps": 10},
             {"exercise": "run", "duration_seconds": 300.0}]
    hr = (None, 100, 145, 165, 185)  # none, easy, steady, hard, max (of 190)
    strain = (20.0, 60.0, 80.0, 95.0)
    yes_no = (False, True)
    return {
        "pre-start": [WorkoutContext(sleep_hours=s, strain=t) for s, t in itertools.product(
            (None, 5.0, 7.0, 8.0), (None, 20.0, 50.0, 70.0))],
        "set-start": [WorkoutContext(set_number=n, rest_seconds=r, last_set=last, **k)
                      for k, n, r, last in itertools.product(kinds, (1, 2), (60, 200), yes_no)],
        "set-end": [WorkoutContext(set_number=2, rest_seconds=90, heart_rate=h,
                                   personal_best=pb, last_set=last, **k)
                    for k, h, pb, last in itertools.product(kinds, hr, yes_no, yes_no)],
        "strainsync": [WorkoutContext(strain=s, heart_rate=h)
                       for s, h in itertools.product(strain, hr)],
        "workout-end": [WorkoutContext(
            total_sets=10, volume=5000.0 if lifted else None,
            duration_seconds=None if lifted else 3000.0, personal_best=pb, strain=s,
            heart_rate=h, peak_heart_rate=h + 20 if h else None)
            for lifted, pb, s, h in itertools.product(
                yes_no, yes_no, (None, *strain), (None, 140))],
        "hr-zone": [WorkoutContext(heart_rate=h, zone_low=130, zone_high=150) for h in (170, 120)],
    }


def combinations() -> set[Combination]:
    found: set[Combination] = {("onboarding", ()), ("onboarding", ("first-run",)),
                               ("onboarding", ("persona-change",))}
    for trigger, contexts in _contexts().items():
        found |= {(trigger, tuple(sorted(situation_tags(trigger, c)))) for c in contexts}
    return found


def shortfall(rows: list[dict], minimum: int = MIN_LINES) -> dict[tuple[str, Combination], int]:
    """(persona, combination) -> lines it has, for those with fewer than `minimum`."""
    counts = Counter((row["persona"], (row["trigger"], tuple(sorted(row["tags"]))))
                     for row in rows)
    return {(persona, combination): counts[(persona, combination)]
            for persona in PERSONAS for combination in sorted(combinations())
            if counts[(persona, combination)] < minimum}


if __name__ == "__main__":
    short = shortfall(read_corpus())
    for (persona, (trigger, tags)), count in sorted(short.items()):
        print(f"{persona:6s} {trigger:12s} {'+'.join(tags) or '(none)':45s} {count}")
    print(f"{len(combinations())} combinations, {len(short)} (persona, combination) pairs "
          f"short of {MIN_LINES} lines")
