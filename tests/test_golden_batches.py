"""One contract, two sides: the golden batches (scripts/golden_batches.py, from a real
replay's outbox) get the same accepted / rejected ids from LocalConvex here as from the
deployment's `ingestBatch` in convex/tests/golden.test.ts."""

import json
from pathlib import Path
from typing import Any

import pytest

from edgecoach.contract import Feedback, PrivacySettings, Subscription, VoiceResponse
from edgecoach.session.talk_budget import TalkBudget
from edgecoach.store import Store
from edgecoach.sync import ConvexClient, prepare
from edgecoach.sync.upstream import INGEST_PATH
from tests.convex_server import TOKEN

GOLDEN = Path(__file__).parent / "fixtures" / "upstream"
CASES = sorted(GOLDEN.glob("*.json"))


def test_the_four_cases_are_there():
    assert [path.name for path in CASES] == [
        "erased.json", "invalid.json", "privacy.json", "replay.json"]


@pytest.mark.parametrize("path", CASES, ids=lambda path: path.stem)
async def test_local_convex_gives_the_golden_answers(convex_server, path):
    golden = json.loads(path.read_text())
    convex_server.cloud.device_users = set(golden["deviceUsers"])
    for user_id, fields in golden["cloud"].items():
        if "deleteAfterDays" in fields:
            convex_server.cloud.request_deletion(user_id, fields["deleteAfterDays"])
        else:
            convex_server.cloud.update_subscription(user_id, **fields)
    async with ConvexClient(convex_server.url, TOKEN, 5) as client:
        for items, expected in zip(golden["batches"], golden["expected"], strict=True):
            reply = await client.mutation(INGEST_PATH, {"protocol": 1, "items": items})
            got = {"accepted": sorted(reply["accepted"]),
                   "rejected": sorted(entry["id"] for entry in reply["rejected"])}
            assert got == expected, reply["rejected"]


def field_paths(value: Any, prefix: str = "") -> set[str]:
    """Every key path of a JSON value ('record.workoutContext.reps'); map keys as '*'."""
    if not isinstance(value, dict):
        return set()
    paths: set[str] = set()
    for key, item in value.items():
        name = "*" if prefix.endswith("triggers") else key
        path = f"{prefix}.{name}" if prefix else name
        paths |= {path} | field_paths(item, path)
    return paths


def items_sent_today(tmp_path: Path) -> list[dict]:
    """Every item kind, built by today's code from the store's real write paths."""
    store = Store.open(tmp_path / "edgecoach.db")
    store.subscriptions.put(Subscription(
        user_id="u", privacy_settings=PrivacySettings(allow_ai_training=True)))
    response = VoiceResponse.model_validate({
        "userId": "u", "triggerId": "set-end", "personaId": "aiden", "textContent": "Good set.",
        "audioKey": "k" * 16,
        "workoutContext": {"exercise": "squat", "reps": 8, "weight": 60, "strain": 10,
                           "heartRate": 150, "sleepHours": 7, "setNumber": 1, "totalSets": 3,
                           "restSeconds": 90, "durationSeconds": 40, "volume": 480,
                           "peakHeartRate": 160, "zoneLow": 120, "zoneHigh": 160}})
    store.responses.add(response)
    store.responses.set_feedback(response.id, Feedback(rating=4, helpful=True, comments="ok"))
    TalkBudget(store.database).rate("u", "set-end", helpful=True)
    store.subscriptions.patch("u", {"preferredPersona": "aiden"})
    items = prepare(store.database, store.outbox.due(100, float("inf"))).items
    store.close()
    return items


def test_no_field_is_sent_that_the_golden_batches_lack(tmp_path):
    """A field the device starts sending must go through the golden batches (regenerate
    them: scripts/golden_batches.py), so that vitest checks the schema takes it."""
    golden = json.loads((GOLDEN / "replay.json").read_text())["batches"][0]
    known: dict[str, set[str]] = {}
    for item in golden:
        known.setdefault(item["kind"], set()).update(field_paths(item))
    sent = items_sent_today(tmp_path)
    assert {item["kind"] for item in sent} == set(known)
    for item in sent:
        new = field_paths(item) - known[item["kind"]]
        assert not new, f"{item['kind']} sends {sorted(new)}: regenerate the golden batches"
