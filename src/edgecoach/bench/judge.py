"""`python -m edgecoach.bench judge`: blind judging of generated lines against corpus controls.

    judge export OUT --lines 200 --controls 40 --seed N
        OUT/blind.jsonl   one line a row: id, persona, trigger, tags, context, text
                          (generated lines and corpus controls shuffled together)
        OUT/key.jsonl     id -> source ("model", "fallback" or "control"): never shown to a judge
    judge score OUT VERDICTS.jsonl [VERDICTS.jsonl ...]
        one verdict file per judge, rows {"id", "fluent", "sensible", "keep", "note"};
        prints each judge's rates per source and per trigger, and whether the judge is
        calibrated (calls >= 95 % of the controls fluent).

The protocol (docs/coach.md): each judge sees only blind.jsonl, judges every line on its
own, and never sees the key or another judge's verdicts.
"""

import argparse
import json
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from edgecoach.bench.model import situations
from edgecoach.catalog import load_catalog
from edgecoach.coach import LineGenerator
from edgecoach.coach.lines import LineBank
from edgecoach.coach.slots import slot_values, slots_in, spoken
from edgecoach.contract import WorkoutContext
from edgecoach.errors import EdgeCoachError
from edgecoach.paths import CONFIG_DIR, MODELS_DIR

CALIBRATION = 95.0  # a judge who calls fewer controls fluent is not used
VERDICT_FIELDS = ("fluent", "sensible", "keep")
BLIND_FILE, KEY_FILE = "blind.jsonl", "key.jsonl"


@dataclass
class Item:
    persona: str
    trigger: str
    tags: list[str]
    context: WorkoutContext
    text: str
    source: str


def control_line(bank: LineBank, persona: str, trigger: str, context: WorkoutContext,
                 tags: list[str], rng: random.Random) -> str | None:
    """A corpus line written for (a subset of) this situation, filled like a generated one."""
    values = slot_values(context, trigger)
    lines = [line for line in bank.fitting(persona, trigger, tags)
             if set(slots_in(line.text)) <= values.keys()]
    if not lines:
        return None
    best = max(len(line.tags) for line in lines)
    return spoken(rng.choice([line for line in lines if len(line.tags) == best]).text, values)


def export(out: Path, lines: int, controls: int, seed: int, models_dir: Path) -> None:
    catalog = load_catalog(CONFIG_DIR)
    generator = LineGenerator.load(models_dir, personas=catalog.personas)
    rng = random.Random(seed)
    items: list[Item] = []
    recent: dict[str, list[str]] = defaultdict(list)
    for persona, trigger, context, tags in situations(lines, rng):
        line = generator.generate(persona, catalog.trigger(trigger), context, tags,
                                  seed=rng.getrandbits(63), recent=recent[persona][-50:])
        recent[persona].append(line.text)
        items.append(Item(persona, trigger, tags, context, line.text,
                          "fallback" if line.fallback else "model"))
    added = 0
    for persona, trigger, context, tags in situations(controls * 4, rng):
        if added == controls:
            break
        if text := control_line(generator.bank, persona, trigger, context, tags, rng):
            items.append(Item(persona, trigger, tags, context, text, "control"))
            added += 1
    rng.shuffle(items)
    out.mkdir(parents=True, exist_ok=True)
    with (out / BLIND_FILE).open("w") as blind, (out / KEY_FILE).open("w") as key:
        for number, item in enumerate(items, 1):
            blind.write(json.dumps({
                "id": number, "persona": item.persona, "trigger": item.trigger,
                "tags": item.tags, "context": item.context.model_dump(
                    mode="json", by_alias=True, exclude_none=True, exclude_defaults=True),
                "text": item.text}) + "\n")
            key.write(json.dumps({"id": number, "source": item.source}) + "\n")
    print(f"wrote {len(items)} lines ({lines} generated, {added} controls) to "
          f"{out / BLIND_FILE}; the key is {out / KEY_FILE}")


def read_rows(path: Path) -> list[dict]:
    try:
        return [json.loads(row) for row in path.read_text().splitlines() if row.strip()]
    except (OSError, ValueError) as error:
        raise EdgeCoachError(f"{path}: cannot read: {error}") from None


def rates(verdicts: Iterable[dict]) -> dict[str, float]:
    rows = list(verdicts)
    return {name: 100 * sum(bool(row.get(name)) for row in rows) / len(rows)
            for name in VERDICT_FIELDS} | {"n": len(rows)} if rows else {"n": 0}


def score(out: Path, verdict_files: list[Path]) -> None:
    key = {row["id"]: row["source"] for row in read_rows(out / KEY_FILE)}
    triggers = {row["id"]: row["trigger"] for row in read_rows(out / BLIND_FILE)}
    for path in verdict_files:
        verdicts = {row["id"]: row for row in read_rows(path) if row.get("id") in key}
        missing = len(key) - len(verdicts)
        print(f"\n{path} ({len(verdicts)} verdicts{f', {missing} missing' if missing else ''})")
        by_source: dict[str, list[dict]] = defaultdict(list)
        by_trigger: dict[str, list[dict]] = defaultdict(list)
        for number, verdict in verdicts.items():
            by_source[key[number]].append(verdict)
            if key[number] == "model":
                by_trigger[triggers[number]].append(verdict)
        for label, groups in (("source", by_source), ("trigger (model)", by_trigger)):
            print(f"  {label:20s} {'n':>4s} {'fluent':>7s} {'sensible':>9s} {'keep':>6s}")
            for name in sorted(groups):
                r = rates(groups[name])
                print(f"  {name:20s} {r['n']:4.0f} {r['fluent']:6.1f}% {r['sensible']:8.1f}% "
                      f"{r['keep']:5.1f}%")
        control = rates(by_source["control"])
        calibrated = control["n"] and control["fluent"] >= CALIBRATION
        print(f"  calibrated: {'yes' if calibrated else 'NO'} (controls fluent "
              f"{control.get('fluent', 0):.1f}%, needs >= {CALIBRATION:.0f}%)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m edgecoach.bench judge",
                                     description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    exporting = commands.add_parser("export", help="write a blind file and its key")
    exporting.add_argument("out", type=Path)
    exporting.add_argument("--lines", type=int, default=200)
    exporting.add_argument("--controls", type=int, default=40)
    exporting.add_argument("--seed", type=int, default=1)
    exporting.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    scoring = commands.add_parser("score", help="rates per judge from verdict files")
    scoring.add_argument("out", type=Path)
    scoring.add_argument("verdicts", type=Path, nargs="+")
    args = parser.parse_args(argv)
    if args.command == "export":
        export(args.out, args.lines, args.controls, args.seed, args.models_dir)
    else:
        score(args.out, args.verdicts)
