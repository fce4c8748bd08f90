"""Purge, deletion and export on a real SQLite file."""

import json
from pathlib import Path

from edgecoach.contract import Feedback, PrivacySettings, Subscription, VoiceResponse
from edgecoach.store import Store
from tests.conftest import FakeClock

DAY = 86400


def add_line(store: Store, user: str, text: str, audio_key: str | None = None,
             created_at: float | None = None) -> VoiceResponse:
    line = VoiceResponse(user_id=user, trigger_id="set-end", persona_id="alice",
                         text_content=text, audio_key=audio_key,
                         created_at=created_at or store.database.clock())
    store.responses.add(line)
    return line


def add_audio(store: Store, key: str, marker: bytes) -> None:
    with store.database.transaction() as db:
        db["audio_cache"].insert({"cacheKey": key, "personaId": "alice", "audio": marker,
                                  "checksum": "x", "audioLength": 1.0, "fileSize": len(marker),
                                  "format": "flac", "quality": "medium", "hitCount": 0,
                                  "lastAccessed": 0, "expiresAt": 1e12, "createdAt": 0})


def test_purge_keeps_each_users_retention(store: Store, clock: FakeClock) -> None:
    store.subscriptions.put(Subscription(
        user_id="short", privacy_settings=PrivacySettings(data_retention_days=7)))
    old = clock() - 10 * DAY
    add_audio(store, "k-old", b"OLD-AUDIO")
    add_line(store, "short", "old line", audio_key="k-old", created_at=old)
    add_line(store, "short", "new line")
    add_line(store, "default", "old but kept", created_at=old)  # default retention 90 days
    counts = store.retention.purge()
    assert counts["voice_responses"] == 1 and counts["audio_cache"] == 1
    assert store.responses.recent_texts("short") == ["new line"]
    assert store.responses.recent_texts("default") == ["old but kept"]


def test_purge_removes_soft_deleted_rows(store: Store) -> None:
    add_line(store, "u1", "bye")
    assert store.retention.soft_delete_user("u1") == 1
    assert store.responses.recent_texts("u1") == []
    assert store.retention.purge()["voice_responses"] == 1


def test_export_holds_only_the_users_data(store: Store) -> None:
    mine = add_line(store, "me", "my line")
    add_line(store, "other", "their line")
    store.responses.set_feedback(mine.id, Feedback(rating=4))
    document = store.retention.export_user("me")
    text = json.dumps(document)
    assert "my line" in text and "their line" not in text and "other" not in text
    assert document["voice_responses"][0]["feedback"]["rating"] == 4
    assert len(document["training_data"]) == 1


def test_deletion_leaves_no_row_or_audio_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "d.db"
    store = Store.open(path)
    add_audio(store, "k-mine", b"MY-SECRET-AUDIO-BYTES")
    add_audio(store, "k-shared", b"SHARED-AUDIO")
    mine = add_line(store, "victim-user", "victim private line", audio_key="k-mine")
    add_line(store, "victim-user", "shared text", audio_key="k-shared")
    add_line(store, "kept-user", "shared text", audio_key="k-shared")
    store.responses.set_feedback(mine.id, Feedback(rating=2, comments="victim comment"))
    store.limits.try_acquire("victim-user", "coaching_trigger", "free", 10)
    counts = store.retention.delete_user("victim-user")
    assert counts["voice_responses"] == 2 and counts["audio_cache"] == 1
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("d.db"))
    for secret in (b"victim-user", b"victim private line", b"MY-SECRET-AUDIO-BYTES",
                   b"victim comment"):
        assert secret not in raw
    assert b"SHARED-AUDIO" in raw and b"kept-user" in raw
