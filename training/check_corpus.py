#!/usr/bin/env python3
"""Validate the coaching corpus (training/corpus/*.jsonl) against CORPUS_SPEC.md.

Usage:
    python training/check_corpus.py [--strict] [FILE ...]

Without FILE arguments every ``*.jsonl`` in ``training/corpus/`` is checked; a
missing persona file is reported as a note, not an error.  Prints line counts per
persona x trigger and per tag, then every error (``path:line: message``).

Exit status: 0 when no errors were found, 1 otherwise.  Warnings (near-copies,
unit words after slots, thin tag coverage) never fail the run unless ``--strict``.
Standard library only.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, defaultdict
from itertools import combinations
from pathlib import Path

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"

PERSONAS = ("alice", "aiden")
REQUIRED_KEYS = {"persona", "trigger", "tags", "text"}
MAX_TAGS = 4  # set-end: kind + HR + personal-best + last-set
MAX_LEN = 140
MAX_SENTENCES = 2
MIN_TAG_LINES = 3  # "every tag must appear in several lines" (coverage warning)

KIND3 = ("strength", "bodyweight", "cardio")
HR_TAGS = ("hr-easy", "hr-steady", "hr-hard", "hr-max")
STRAIN_TAGS = ("strain-low", "strain-mid", "strain-high", "strain-peak")

# Tags each trigger may carry (CORPUS_SPEC.md table).
ALLOWED_TAGS: dict[str, set[str]] = {
    "onboarding": {"first-run", "persona-change"},
    "pre-start": {"short-sleep", "good-sleep", "strain-high", "strain-low"},
    "set-start": {*KIND3, "first-set", "last-set", "long-rest"},
    "set-end": {*KIND3, *HR_TAGS, "no-hr", "personal-best", "last-set"},
    "strainsync": {*STRAIN_TAGS, *HR_TAGS},
    "workout-end": {"strength", "cardio", "personal-best", *STRAIN_TAGS, "no-hr"},
    "hr-zone": {"above-zone", "below-zone"},
}
TRIGGERS = tuple(ALLOWED_TAGS)

SLOT_NAMES = {
    "exercise",
    "set",
    "reps",
    "weight",
    "rest",
    "duration",
    "sleep",
    "strain",
    "hr",
    "sets",
    "volume",
    "peak_hr",
    "zone_low",
    "zone_high",
}

# Typical values used to measure the spoken length of a line.
TYPICAL = {
    "exercise": "romanian deadlift",
    "set": "3",
    "reps": "12",
    "weight": "62.5",
    "rest": "90",
    "duration": "four minutes ten",
    "sleep": "5.5",
    "strain": "78",
    "hr": "152",
    "sets": "12",
    "volume": "4250",
    "peak_hr": "178",
    "zone_low": "130",
    "zone_high": "150",
}
TYPICAL_BY_TRIGGER = {"workout-end": {"duration": "forty-two minutes"}}

# Number words that must never appear (quantities come from slots; "one" is fine).
# fmt: off
NUMBER_WORDS = [
    "zero", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
    "eighteen", "nineteen", "twenty", "thirty", "forty", "fifty", "sixty", "seventy",
    "eighty", "ninety", "hundred", "hundreds", "thousand", "thousands", "million",
    "millions", "dozen", "dozens",
]
# fmt: on
NUMBER_WORD_RE = re.compile(r"\b(" + "|".join(NUMBER_WORDS) + r")\b", re.IGNORECASE)
SLOT_RE = re.compile(r"\{([^{}]*)\}")
SENTENCE_SPLIT_RE = re.compile(r"(?<=[.!?])\s+(?=\S)")

# Unit words expected next to a slot (warnings only).
UNIT_AFTER = {
    "weight": r"(kilos?|kilograms?|kg)\b",
    "volume": r"(kilos?|kilograms?|kg)\b",
    "rest": r"seconds?\b",
    "sleep": r"hours?\b",
}


def required_kind_error(tags: list[str], kinds: tuple[str, ...], label: str) -> str | None:
    found = [t for t in tags if t in kinds]
    if len(found) != 1:
        return f"needs exactly one {label} tag ({'/'.join(kinds)}), found {found or 'none'}"
    return None


def tag_errors(trigger: str, tags: list[str]) -> list[str]:
    errs: list[str] = []
    allowed = ALLOWED_TAGS[trigger]
    bad = [t for t in tags if t not in allowed]
    if bad:
        errs.append(f"tags {bad} not allowed for {trigger} (allowed: {sorted(allowed)})")
    if len(tags) > MAX_TAGS:
        errs.append(f"{len(tags)} tags (max {MAX_TAGS})")
    if len(set(tags)) != len(tags):
        errs.append("repeated tag")

    def at_most_one(group: tuple[str, ...], label: str) -> None:
        found = [t for t in tags if t in group]
        if len(found) > 1:
            errs.append(f"at most one {label} tag, found {found}")

    if trigger == "pre-start":
        at_most_one(("short-sleep", "good-sleep"), "sleep")
        at_most_one(("strain-high", "strain-low"), "strain")
    elif trigger == "set-start":
        if e := required_kind_error(tags, KIND3, "kind"):
            errs.append(e)
        if "first-set" in tags and "long-rest" in tags:
            errs.append("first-set and long-rest contradict (no rest before the first set)")
    elif trigger == "set-end":
        if e := required_kind_error(tags, KIND3, "kind"):
            errs.append(e)
        at_most_one((*HR_TAGS, "no-hr"), "HR")
    elif trigger == "strainsync":
        if e := required_kind_error(tags, STRAIN_TAGS, "strain"):
            errs.append(e)
        at_most_one(HR_TAGS, "HR")
    elif trigger == "workout-end":
        if e := required_kind_error(tags, ("strength", "cardio"), "kind"):
            errs.append(e)
        at_most_one(STRAIN_TAGS, "strain")
    elif trigger == "hr-zone" and (
        e := required_kind_error(tags, ("above-zone", "below-zone"), "zone")
    ):
        errs.append(e)
    return errs


def allowed_slots(trigger: str, tags: list[str]) -> set[str]:
    t = set(tags)
    if trigger == "onboarding":
        return set()
    if trigger == "pre-start":
        s = set()
        if t & {"short-sleep", "good-sleep"}:
            s.add("sleep")
        if t & {"strain-high", "strain-low"}:
            s.add("strain")
        return s
    if trigger == "set-start":
        s = {"exercise", "set"}
        if t & {"strength", "bodyweight"}:
            s.add("reps")
        if "strength" in t:
            s.add("weight")
        return s
    if trigger == "set-end":
        s = {"exercise", "set", "rest"}
        if t & {"strength", "bodyweight"}:
            s.add("reps")
        if "strength" in t:
            s.add("weight")
        if "cardio" in t:
            s.add("duration")
        if t & set(HR_TAGS):
            s.add("hr")
        return s
    if trigger == "strainsync":
        s = {"strain"}
        if t & set(HR_TAGS):
            s.add("hr")
        return s
    if trigger == "workout-end":
        s = {"sets"}
        if "strength" in t:
            s.add("volume")
        if "cardio" in t:
            s.add("duration")
        if t & set(STRAIN_TAGS):
            s.add("strain")
        if "no-hr" not in t:
            s |= {"hr", "peak_hr"}
        return s
    if trigger == "hr-zone":
        return {"hr", "zone_low", "zone_high"}
    return set()


def fill(text: str, trigger: str) -> str:
    values = {**TYPICAL, **TYPICAL_BY_TRIGGER.get(trigger, {})}
    return SLOT_RE.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^a-z{}_ ]+", " ", text.lower()).split())


def check_record(rec: object, file_persona: str | None) -> tuple[list[str], list[str]]:
    """Return (errors, warnings) for one parsed JSON value."""
    errs: list[str] = []
    warns: list[str] = []
    if not isinstance(rec, dict):
        return ["not a JSON object"], warns
    keys = set(rec)
    if keys != REQUIRED_KEYS:
        missing, extra = REQUIRED_KEYS - keys, keys - REQUIRED_KEYS
        if missing:
            errs.append(f"missing keys {sorted(missing)}")
        if extra:
            errs.append(f"unexpected keys {sorted(extra)}")
        if missing:
            return errs, warns
    persona, trigger, tags, text = rec["persona"], rec["trigger"], rec["tags"], rec["text"]

    if persona not in PERSONAS:
        errs.append(f"unknown persona {persona!r}")
    elif file_persona in PERSONAS and persona != file_persona:
        errs.append(f"persona {persona!r} in {file_persona}.jsonl")
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        errs.append("tags must be a list of strings")
        tags = []
    if not isinstance(text, str) or not text.strip():
        errs.append("text must be a non-empty string")
        return errs, warns
    if trigger not in ALLOWED_TAGS:
        errs.append(f"unknown trigger {trigger!r}")
    else:
        errs.extend(tag_errors(trigger, tags))

    # Text form.
    if not text.isascii():
        bad = sorted({c for c in text if not c.isascii()})
        errs.append(f"non-ASCII characters {bad}")
    if text != text.strip() or "  " in text:
        errs.append("leading/trailing or double spaces")
    if not text.rstrip().endswith((".", "!", "?")):
        errs.append("must end with '.', '!' or '?'")
    n_sent = len(SENTENCE_SPLIT_RE.split(text.strip()))
    if n_sent > MAX_SENTENCES:
        errs.append(f"{n_sent} sentences (max {MAX_SENTENCES})")

    # Slots.
    if text.count("{") != text.count("}") or re.search(r"\{[^}]*\{|\}[^{]*\}", text):
        errs.append("unbalanced braces")
    slots = SLOT_RE.findall(text)
    unknown = sorted({s for s in slots if s not in SLOT_NAMES})
    if unknown:
        errs.append(f"unknown slots {unknown}")
    if trigger in ALLOWED_TAGS:
        allowed = allowed_slots(trigger, tags)
        disallowed = sorted({s for s in slots if s in SLOT_NAMES and s not in allowed})
        if disallowed:
            errs.append(
                f"slots {disallowed} not allowed for {trigger} {tags} "
                f"(allowed: {sorted(allowed) or 'none'})"
            )
    bare = SLOT_RE.sub(" ", text)
    if re.search(r"\d", bare):
        errs.append("digits outside slots")
    words = sorted({m.group(1).lower() for m in NUMBER_WORD_RE.finditer(bare)})
    if words:
        errs.append(f"number words {words}")

    # Length after filling typical values.
    if trigger in ALLOWED_TAGS:
        filled = fill(text, trigger)
        if len(filled) > MAX_LEN:
            errs.append(f"{len(filled)} characters after filling slots (max {MAX_LEN})")

    # Units (warnings).
    for slot, unit_re in UNIT_AFTER.items():
        for m in re.finditer(r"\{" + slot + r"\}", text):
            if not re.match(r"\s+" + unit_re, text[m.end() :], re.IGNORECASE):
                warns.append(f"{{{slot}}} not followed by its unit word")
    if persona in PERSONAS:
        for other in PERSONAS:
            if other != persona and re.search(rf"\b{other}\b", text, re.IGNORECASE):
                warns.append(f"{persona} line names the other persona {other!r}")
    if re.search(r"\{duration\}\s+(minutes?|seconds?)\b", text, re.IGNORECASE):
        warns.append("{duration} already includes its units")
    return errs, warns


def one_word_apart(a: list[str], b: list[str]) -> bool:
    """True when token lists differ by a single substitution, insertion or deletion."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1 :]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path, help="JSONL files (default: corpus/*.jsonl)")
    ap.add_argument("--strict", action="store_true", help="treat warnings as errors")
    ap.add_argument("-q", "--quiet", action="store_true", help="do not list warnings")
    args = ap.parse_args(argv)

    files: list[Path] = args.files or sorted(CORPUS_DIR.glob("*.jsonl"))
    errors: list[str] = []
    warnings: list[str] = []
    notes: list[str] = []
    if not args.files:
        for p in PERSONAS:
            if not (CORPUS_DIR / f"{p}.jsonl").exists():
                notes.append(f"note: {CORPUS_DIR / f'{p}.jsonl'} not found (skipped)")

    counts: Counter[tuple[str, str]] = Counter()
    tag_counts: Counter[tuple[str, str]] = Counter()
    seen_text: dict[str, str] = {}
    seen_norm: dict[str, str] = {}
    groups: dict[tuple[str, str], list[tuple[str, list[str]]]] = defaultdict(list)
    n_lines = 0

    for path in files:
        if not path.exists():
            notes.append(f"note: {path} not found (skipped)")
            continue
        file_persona = path.stem if path.stem in PERSONAS else None
        if path.suffix == ".jsonl" and file_persona is None:
            notes.append(f"note: {path.name} is not a known persona file")
        try:
            raw_lines = path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError as exc:
            errors.append(f"{path}: not UTF-8 ({exc})")
            continue
        for lineno, raw in enumerate(raw_lines, 1):
            where = f"{path.name}:{lineno}"
            if not raw.strip():
                errors.append(f"{where}: blank line")
                continue
            n_lines += 1
            try:
                rec = json.loads(raw)
            except json.JSONDecodeError as exc:
                errors.append(f"{where}: invalid JSON ({exc.msg})\n    {raw[:120]}")
                continue
            errs, warns = check_record(rec, file_persona)
            text = rec.get("text") if isinstance(rec, dict) else None
            show = f"\n    {text}" if isinstance(text, str) else ""
            for e in errs:
                errors.append(f"{where}: {e}{show}")
            for w in warns:
                warnings.append(f"{where}: {w}{show}")
            if not isinstance(rec, dict) or not isinstance(text, str):
                continue
            if text in seen_text:
                errors.append(f"{where}: duplicate text (first at {seen_text[text]}){show}")
            else:
                seen_text[text] = where
                norm = normalise(text)
                if norm in seen_norm:
                    errors.append(
                        f"{where}: duplicate up to case/punctuation of {seen_norm[norm]}{show}"
                    )
                else:
                    seen_norm[norm] = where
            persona, trigger = str(rec.get("persona")), str(rec.get("trigger"))
            counts[(persona, trigger)] += 1
            raw_tags = rec.get("tags")
            tags: list[object] = raw_tags if isinstance(raw_tags, list) else []
            for t in tags:
                tag_counts[(persona, str(t))] += 1
            groups[(persona, trigger)].append((where, normalise(text).split()))

    # Near-copies: same persona and trigger, one word apart (warning).
    for items in groups.values():
        for (wa, ta), (wb, tb) in combinations(items, 2):
            if one_word_apart(ta, tb):
                warnings.append(f"{wb}: near-copy of {wa} (one word apart)")

    # Report counts.
    personas = [p for p in PERSONAS if any(k[0] == p for k in counts)]
    personas += sorted({k[0] for k in counts} - set(PERSONAS))
    all_tags = sorted(set().union(*ALLOWED_TAGS.values()))
    extra_tags = sorted({k[1] for k in tag_counts} - set(all_tags))
    width = max(len(t) for t in [*TRIGGERS, *all_tags, *extra_tags, "trigger"]) + 2
    print(f"Checked {n_lines} lines in {len(files)} file(s).\n")
    if not personas:
        print("(no corpus lines found)\n")
    print("Lines per persona x trigger:")
    print("  " + "trigger".ljust(width) + "".join(p.rjust(8) for p in personas))
    triggers = list(TRIGGERS) + sorted({k[1] for k in counts} - set(TRIGGERS))
    for trig in triggers:
        print("  " + trig.ljust(width) + "".join(str(counts[(p, trig)]).rjust(8) for p in personas))
    print(
        "  "
        + "TOTAL".ljust(width)
        + "".join(str(sum(v for k, v in counts.items() if k[0] == p)).rjust(8) for p in personas)
    )

    print("\nLines per tag:")
    print("  " + "tag".ljust(width) + "".join(p.rjust(8) for p in personas))
    for tag in all_tags + extra_tags:
        print(
            "  " + tag.ljust(width) + "".join(str(tag_counts[(p, tag)]).rjust(8) for p in personas)
        )
    for p in personas:
        thin = [t for t in all_tags if tag_counts[(p, t)] < MIN_TAG_LINES]
        if thin:
            warnings.append(f"{p}: tags with fewer than {MIN_TAG_LINES} lines: {thin}")

    for n in notes:
        print(n)
    if warnings and not args.quiet:
        print(f"\n{len(warnings)} warning(s):")
        for w in warnings:
            print("  " + w)
    failed = errors or (args.strict and warnings)
    if errors:
        print(f"\n{len(errors)} error(s):")
        for e in errors:
            print("  " + e)
    if failed:
        print("\nFAILED")
        return 1
    print("\nOK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
