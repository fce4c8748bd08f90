"""What leaves the device: privacy settings applied at send time, on the real wire."""

import json
import re
from typing import Any

from edgecoach.contract import Feedback, PrivacySettings, Subscription, VoiceResponse
from edgecoach.privacy import BIOMETRIC_FIELDS
from edgecoach.session.talk_budget import TalkBudget
from edgecoach.settings import UpstreamSettings
from edgecoach.store import Store
from edgecoach.sync import UpstreamSync
from tests.convex_server import TOKEN

USER = "athlete-2"
COMMENT = "Great cue! Mail me at jo.runner@example.com or call +44 20 7946 0958."


def set_privacy(store: Store, **privacy: Any) -> None:
    store.subscriptions.put(Subscription(user_id=USER, privacy_settings=PrivacySettings(**privacy)))


def workout(store: Store) -> list[str]:
    """Three lines with biometrics in context and text, one rated with a chatty comment."""
    contexts = [
        {"exercise": "squat", "reps": 5, "weight": 100, "heartRate": 172, "strain": 64.5},
        {"sleepHours": 6.5, "strain": 31},
        {"heartRate": 141, "peakHeartRate": 188, "zoneLow": 130, "zoneHigh": 150},
    ]
    texts = ["Five at 100 kg, heart rate 172. Strain 64.5, steady.",
             "6.5 hours of sleep and strain 31: go easy, write to coach@example.com.",
             "Peak 188, now 141: back in the zone."]
    ids = []
    for context, text in zip(contexts, texts, strict=True):
        response = VoiceResponse(user_id=USER, trigger_id="strainsync", persona_id="alice",
                                 text_content=text, workout_context=context)
        store.responses.add(response)
        ids.append(response.id)
    store.responses.set_feedback(ids[0], Feedback(rating=4, helpful=True, comments=COMMENT))
    TalkBudget(store.database).set_chattiness(USER, "quiet")
    return ids


async def sync_all(store: Store, clock, url: str):
    async with UpstreamSync(store, UpstreamSettings(url=url, token=TOKEN), clock=clock) as sync:
        return await sync.sync_once()


def keys_everywhere(value: Any) -> set[str]:
    """Every key at any depth, JSON texts (the training prompt) included."""
    if isinstance(value, str) and value.startswith("{"):
        return keys_everywhere(json.loads(value))
    if isinstance(value, dict):
        return set(value) | set().union(*(keys_everywhere(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(keys_everywhere(item) for item in value)) if value else set()
    return set()


def strings_of(value: Any, keys: tuple[str, ...]) -> list[str]:
    """The texts under `keys`, at any depth."""
    if isinstance(value, dict):
        found = [item for key, item in value.items() if key in keys and isinstance(item, str)]
        return found + [text for item in value.values() for text in strings_of(item, keys)]
    if isinstance(value, list):
        return [text for item in value for text in strings_of(item, keys)]
    return []


async def test_no_data_collection_sends_nothing_and_drops_the_items(store, clock, convex_server):
    set_privacy(store, allow_data_collection=False, allow_ai_training=True)
    workout(store)
    report = await sync_all(store, clock, convex_server.url)
    assert report.sent == 0 and report.dropped == 6
    assert convex_server.requests == []
    assert store.outbox.pending_count() == 0
    assert len(store.responses.recent(USER)) == 3, "the local records stay"


async def test_no_ai_training_sends_no_training_data(store, clock, convex_server):
    set_privacy(store, allow_ai_training=False)
    workout(store)
    report = await sync_all(store, clock, convex_server.url)
    kinds = sorted(item["kind"] for item in convex_server.items.values())
    assert kinds == ["coaching_state", "feedback"] + ["voice_response"] * 3
    assert report.dropped == 1 and store.outbox.pending_count() == 0


async def test_ai_training_allowed_sends_training_data(store, clock, convex_server):
    set_privacy(store, allow_ai_training=True)
    workout(store)
    await sync_all(store, clock, convex_server.url)
    training = [item for item in convex_server.items.values() if item["kind"] == "training_data"]
    assert len(training) == 1
    assert json.loads(training[0]["record"]["inputPrompt"])["context"]["heartRate"] == 172


async def test_exclude_biometrics_strips_them_from_every_payload(store, clock, convex_server):
    set_privacy(store, allow_ai_training=True, exclude_biometrics=True)
    workout(store)
    await sync_all(store, clock, convex_server.url)
    items = list(convex_server.items.values())
    assert len(items) == 6
    assert not keys_everywhere(items) & BIOMETRIC_FIELDS
    prose = " ".join(strings_of(items, ("textContent", "comments", "actualOutput")))
    assert "[BIOMETRIC]" in prose
    for value in ("172", "64.5", "6.5", "188", "141", "31"):
        assert not re.search(rf"(?<![\d.]){re.escape(value)}(?![\d])", prose), value
    line = next(item["record"]["textContent"] for item in items
                if item["kind"] == "voice_response" and "squat" in json.dumps(item))
    assert line == "Five at 100 kg, heart rate [BIOMETRIC]. Strain [BIOMETRIC], steady."
    prompt = next(json.loads(item["record"]["inputPrompt"]) for item in items
                  if item["kind"] == "training_data")
    assert prompt["context"] == {"exercise": "squat", "reps": 5, "weight": 100.0}


async def test_biometrics_travel_when_not_excluded(store, clock, convex_server):
    workout(store)
    await sync_all(store, clock, convex_server.url)
    assert {"heartRate", "strain", "sleepHours"} <= keys_everywhere(
        list(convex_server.items.values()))


async def test_emails_and_phones_arrive_sanitized(store, clock, convex_server):
    set_privacy(store, allow_ai_training=True)
    workout(store)
    await sync_all(store, clock, convex_server.url)
    items = list(convex_server.items.values())
    prose = " ".join(strings_of(items, ("textContent", "comments", "actualOutput")))
    assert "example.com" not in json.dumps(items) and "7946" not in prose
    comments = {kind: record for kind, record in (
        (item["kind"], item["record"]) for item in convex_server.items.values())}
    expected = "Great cue! Mail me at [EMAIL] or call [PHONE]."
    assert comments["feedback"]["feedback"]["comments"] == expected
    assert comments["training_data"]["userFeedback"]["comments"] == expected
    assert "write to [EMAIL]" in prose


async def test_records_gone_drop_their_items(store, clock, convex_server):
    workout(store)
    store.retention.soft_delete_user(USER)
    report = await sync_all(store, clock, convex_server.url)
    kinds = sorted(item["kind"] for item in convex_server.items.values())
    assert kinds == ["coaching_state"], "only the preferences record still exists"
    assert report.dropped == 5 and store.outbox.pending_count() == 0  # 4 gone, 1 by privacy


async def test_coaching_state_is_sent_without_working_state(store, clock, convex_server):
    TalkBudget(store.database).record_spoken(USER, clock())
    TalkBudget(store.database).set_chattiness(USER, "chatty")
    await sync_all(store, clock, convex_server.url)
    (item,) = convex_server.items.values()
    assert item["kind"] == "coaching_state" and item["record"]["chattiness"] == "chatty"
    assert "lastSpokenAt" not in item["record"]


async def test_settings_at_send_time_decide(store, clock, convex_server):
    """Items queued while biometrics were allowed leave without them once excluded."""
    workout(store)
    set_privacy(store, exclude_biometrics=True)
    await sync_all(store, clock, convex_server.url)
    assert not keys_everywhere(list(convex_server.items.values())) & BIOMETRIC_FIELDS
