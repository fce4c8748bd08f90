"""Write the golden upstream batches (tests/fixtures/upstream/*.json) from a real replay.

    .venv/bin/python scripts/golden_batches.py [--out tests/fixtures/upstream]

Replays data/recordings/strength-session.jsonl through the real CLI (`edgecoach replay`,
fresh data dir), rates some of its lines, changes a setting and turns the talk dial, so
the outbox holds every item kind; then builds the items exactly as the sync sends them
(`edgecoach.sync.prepare`). Each golden file is a cloud state, batches of those items
(some deliberately broken, some for users the cloud refuses) and the accepted / rejected
ids each batch must get. Both sides check them: vitest feeds them to `ingestBatch`
(convex/tests/golden.test.ts), pytest to `LocalConvex` (tests/test_golden_batches.py).
Regenerate after changing what the device sends; the ids change, the cases do not.
"""

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from edgecoach.contract import Feedback, PrivacySettings
from edgecoach.session.talk_budget import TalkBudget
from edgecoach.store import Store
from edgecoach.sync import prepare

ROOT = Path(__file__).resolve().parent.parent
RECORDING = ROOT / "data" / "recordings" / "strength-session.jsonl"
USER = "demo"  # the user of `edgecoach replay`
QUIET_USER = "quiet"  # says allowDataCollection=false in the cloud
STRANGER = "stranger"  # a user the device's token does not cover
Item = dict[str, Any]


def replayed_items() -> list[Item]:
    """The outbox of a real replay, rated and dialled, as the sync would send it."""
    with tempfile.TemporaryDirectory() as data_dir:
        env = {**os.environ, "EDGECOACH_DATA_DIR": data_dir}
        subprocess.run([sys.executable, "-m", "edgecoach", "replay", str(RECORDING),
                        "--speed", "0"], env=env, check=True, stdout=subprocess.DEVNULL)
        store = Store.open(Path(data_dir) / "demo.db")
        current = store.subscriptions.get(USER)
        store.subscriptions.put(current.model_copy(update={
            "privacy_settings": PrivacySettings(allow_ai_training=True)}))
        with store.database.reading() as db:
            response_ids = [row[0] for row in db.execute(
                "select id from voice_responses order by createdAt limit 3")]
        ratings = [(5, True, "great cue, tell coach@example.com"), (2, False, None),
                   (4, True, "text me at 555-123-4567")]
        for response_id, (rating, helpful, comments) in zip(response_ids, ratings, strict=True):
            store.responses.set_feedback(
                response_id, Feedback(rating=rating, helpful=helpful, comments=comments))
        store.subscriptions.patch(USER, {"devicePreferences": {"toastDuration": 4000}})
        budget = TalkBudget(store.database)
        budget.rate(USER, "set-end", helpful=True)
        budget.set_chattiness(USER, "quiet")
        rows = store.outbox.due(10_000, float("inf"))
        prepared = prepare(store.database, rows)
        store.close()
    assert not prepared.dropped, prepared.dropped
    return prepared.items


def renamed(item: Item, **record_changes: Any) -> Item:
    """A copy with a new item id (and record changes; None removes a field)."""
    changed = copy.deepcopy(item)
    changed["id"] = str(uuid.uuid4())
    for path, value in record_changes.items():
        target = changed["record"]
        *parents, last = path.split("__")
        for parent in parents:
            target = target[parent]
        if value is None:
            target.pop(last)
        else:
            target[last] = value
    return changed


def for_user(item: Item, user_id: str) -> Item:
    changed = renamed(item)
    changed["userId"] = user_id
    if "userId" in changed["record"]:
        changed["record"]["userId"] = user_id
    return changed


def golden(description: str, cloud: dict, device_users: list[str],
           batches: list[tuple[list[Item], list[Item]]]) -> dict:
    """`batches`: (accepted, rejected) items; the accepted ones first, in outbox order
    (feedback follows the line it rates)."""
    sent, expected = [], []
    for accepted, rejected in batches:
        sent.append(accepted + rejected)
        expected.append({"accepted": sorted(item["id"] for item in accepted),
                         "rejected": sorted(item["id"] for item in rejected)})
    return {"description": description, "cloud": cloud, "deviceUsers": device_users,
            "batches": sent, "expected": expected}


def cases(items: list[Item]) -> dict[str, dict]:
    by_kind: dict[str, list[Item]] = {}
    for item in items:
        by_kind.setdefault(item["kind"], []).append(item)
    response = next(i for i in by_kind["voice_response"] if i["record"]["workoutContext"]["reps"])
    feedback = by_kind["feedback"][0]
    training = by_kind["training_data"][0]
    settings = by_kind["subscription"][0]
    training_on = {USER: {"privacySettings": {"allowAITraining": True}}}
    broken = [
        renamed(response, workoutContext__reps=0),
        renamed(response, workoutContext__weight=-1),
        renamed(response, workoutContext__strain=100.5),
        renamed(response, workoutContext__heartRate=300),
        renamed(response, workoutContext__reps=2.5),
        renamed(response, workoutContext__restSeconds=5000),
        renamed(response, workoutContext__mood="great"),
        renamed(response, sentiment="positive"),
        renamed(response, metadata=None),
        renamed(response, triggerId="nap"),
        renamed(response, personaId="bob"),
        renamed(response, userId="someone-else"),
        renamed(response, audioLength="long"),
        renamed(feedback, feedback__rating=0),
        renamed(feedback, feedback__rating=6),
        renamed(feedback, responseId=str(uuid.uuid4())),
        renamed(training, quality=1.5),
        renamed(training, personaId="bob"),
        renamed(settings, preferredPersona="bob"),
        renamed(settings, privacySettings__dataRetentionDays=0),
        renamed(settings, usageStats={"totalResponses": 1}),
        {**renamed(response), "kind": "gossip"},
        {**renamed(response), "record": "not an object"},
    ]
    zero_weight = renamed(response, workoutContext__weight=0, workoutContext__strain=0)
    return {
        "replay": golden(
            "Every item of a replayed workout (lines, feedback, training data, settings, talk "
            "dial) is "
            "accepted; the same batch retried (its reply lost) is accepted again.",
            training_on, [USER], [(items, []), (items, [])]),
        "invalid": golden(
            "One bad item is refused alone: out-of-range values, unknown fields, wrong "
            "kinds, feedback on an unknown response; a weight and strain of 0 are values.",
            training_on, [USER], [(by_kind["voice_response"][:3] + [zero_weight], broken)]),
        "privacy": golden(
            "The cloud's privacy settings are enforced again: no AI training refuses "
            "training data, no data collection refuses everything; a user the device's "
            "token does not cover is refused.",
            {USER: {"privacySettings": {"allowAITraining": False}},
             QUIET_USER: {"privacySettings": {"allowDataCollection": False}}},
            [USER, QUIET_USER],
            [(by_kind["voice_response"][:2],
              by_kind["training_data"] + [for_user(response, QUIET_USER),
                                          for_user(training, QUIET_USER),
                                          for_user(response, STRANGER)])]),
        "erased": golden(
            "A user whose erasure was asked for in the cloud: items still queued on the "
            "device are refused; another user is unaffected.",
            {USER: {"deleteAfterDays": 7}}, [USER, QUIET_USER],
            [([for_user(response, QUIET_USER)], by_kind["voice_response"][:2])]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "fixtures" / "upstream")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, case in cases(replayed_items()).items():
        path = args.out / f"{name}.json"
        path.write_text(json.dumps(case, indent=1, sort_keys=True) + "\n")
        print(f"{path.relative_to(ROOT)}: {sum(len(b) for b in case['batches'])} items")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
