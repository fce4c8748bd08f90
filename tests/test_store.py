"""The SQLite store on real files: schema, migrations, durability of writes, bad files."""

import sqlite3
from pathlib import Path

import pytest

from edgecoach.contract import Feedback, VoiceResponse, WorkoutEvent
from edgecoach.errors import NotFound, StoreError
from edgecoach.store import Store
from edgecoach.store.schema import SCHEMA_VERSION

DESIGN_TABLES = {"personas", "triggers", "voice_responses", "subscriptions", "training_data",
                 "audio_cache", "rate_limits"}


def response(user: str = "u1", text: str = "Strong set.") -> VoiceResponse:
    return VoiceResponse(user_id=user, trigger_id="set-end", persona_id="aiden",
                         text_content=text)


def test_migrations_from_an_empty_file_create_every_table(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    path.touch()
    store = Store.open(path)
    db = store.database.db
    assert DESIGN_TABLES | {"events", "outbox", "schema_version"} <= set(db.table_names())
    assert db.execute("select max(version) from schema_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert {"by_user", "by_trigger", "by_persona"} <= {
        index.name for index in db["voice_responses"].indexes}
    store.close()


def test_reopening_applies_no_migration_twice(tmp_path: Path) -> None:
    Store.open(tmp_path / "a.db").close()
    store = Store.open(tmp_path / "a.db")
    rows = store.database.db.execute("select count(*) from schema_version").fetchone()[0]
    assert rows == SCHEMA_VERSION
    store.close()


def test_a_file_that_is_not_sqlite_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("this is not a database\n" * 100)
    with pytest.raises(StoreError, match="notes.db"):
        Store.open(path)
    assert path.read_text().startswith("this is not a database")


def test_a_response_is_on_disk_before_add_returns(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.db")
    line = response()
    store.responses.add(line)
    # A second connection (another process, or the daemon after a crash) sees it.
    other = sqlite3.connect(tmp_path / "s.db")
    assert other.execute("select textContent from voice_responses").fetchall() == [
        ("Strong set.",)]
    assert other.execute("select kind from outbox").fetchall() == [("voice_response",)]
    store.close()


def test_events_are_recorded_then_marked(store: Store) -> None:
    event = WorkoutEvent(trigger_id="set-start", user_id="u1")
    store.responses.record_event(event)
    store.responses.mark_event(event.id, "suppressed", "cooldown")
    assert store.responses.event_counts("u1") == {"suppressed": 1}


def test_feedback_is_stored_with_training_data_and_outbox_items(store: Store) -> None:
    line = response()
    store.responses.add(line)
    store.responses.set_feedback(line.id, Feedback(rating=5, helpful=True,
                                                   comments="call me on 555-123-4567"))
    assert store.responses.get(line.id).feedback.rating == 5
    training = list(store.database.db["training_data"].rows)
    assert len(training) == 1 and training[0]["quality"] == 1.0
    assert "[PHONE]" in training[0]["userFeedback"]
    assert store.outbox.pending_count() == 3
    assert store.subscriptions.get("u1").usage_stats.average_rating == 5


def test_feedback_for_an_unknown_response_changes_nothing(store: Store) -> None:
    with pytest.raises(NotFound):
        store.responses.set_feedback("nope", Feedback(rating=3))
    assert store.outbox.pending_count() == 0


def test_recent_texts_newest_first(store: Store, clock) -> None:
    for number in range(25):
        clock.advance(1)
        store.responses.add(response(text=f"line {number}").model_copy(
            update={"created_at": clock()}))
    texts = store.responses.recent_texts("u1", 20)
    assert len(texts) == 20 and texts[0] == "line 24" and texts[-1] == "line 5"


def test_unfinished_events_are_found_after_a_crash(store: Store) -> None:
    done, pending = (WorkoutEvent(trigger_id="set-start", user_id="u1") for _ in range(2))
    store.responses.record_event(done)
    store.responses.record_event(pending)
    store.responses.mark_event(done.id, "spoken")
    assert [event.id for event in store.responses.unfinished_events()] == [pending.id]
