"""What the store never does: replace an event, count a rating twice, bring an erased user
back, let other users read the file, or write over a corrupt database."""

import os
import sqlite3
import stat
import threading
from pathlib import Path

import pytest

from edgecoach.contract import Feedback, Subscription, VoiceResponse, WorkoutContext, WorkoutEvent
from edgecoach.errors import Conflict, StoreError, UserErased
from edgecoach.feedback import give_feedback
from edgecoach.session.talk_budget import TalkBudget
from edgecoach.store import Store
from edgecoach.store.retention import USER_TABLES

USER = "athlete"


def spoken_line(store: Store, user_id: str = USER) -> VoiceResponse:
    response = VoiceResponse(user_id=user_id, trigger_id="set-end", persona_id="alice",
                             text_content="Five reps, strong.",
                             workout_context=WorkoutContext(exercise="squat", reps=5))
    assert store.responses.add(response)
    return response


def rows(store: Store, sql: str, *params: object) -> list[tuple]:
    with store.database.reading() as db:
        return db.execute(sql, list(params)).fetchall()


# --- event ids ----------------------------------------------------------------------------

def test_an_event_id_that_exists_is_never_replaced(store: Store) -> None:
    first = WorkoutEvent(id="e1", trigger_id="set-end", user_id=USER,
                         context=WorkoutContext(reps=5))
    assert store.responses.record_event(first)
    store.responses.mark_event("e1", "spoken")
    # The same event again (a client retry, another timestamp): stored once, untouched.
    retry = first.model_copy(update={"timestamp": first.timestamp + 3})
    assert store.responses.record_event(retry) is False
    other = WorkoutEvent(id="e1", trigger_id="set-start", user_id="someone-else")
    with pytest.raises(Conflict, match="e1"):
        store.responses.record_event(other)
    assert rows(store, "select userId, triggerId, status from events") == [
        (USER, "set-end", "spoken")]


# --- feedback -----------------------------------------------------------------------------

def test_a_line_rated_twenty_times_at_once_has_one_rating_one_training_row(
        store: Store) -> None:
    line = spoken_line(store)
    ratings = [Feedback(rating=1 + i % 5, helpful=i % 2 == 0) for i in range(20)]
    threads = [threading.Thread(target=give_feedback, args=(store, line.id, rating))
               for rating in ratings]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert rows(store, "select count(*) from training_data") == [(1,)]
    stored = store.responses.get(line.id).feedback
    assert stored is not None
    quality = rows(store, "select quality from training_data")[0][0]
    assert quality == (stored.rating - 1) / 4  # the training row says what the line says
    kinds = rows(store, "select kind, count(*) from outbox where sentAt is null "
                 "and kind in ('feedback', 'training_data') group by kind order by kind")
    assert kinds == [("feedback", 1), ("training_data", 1)]
    # The talk budget holds one vote for the line: the one it was left with.
    helpful, not_helpful = rows(store, "select helpful, notHelpful from trigger_ratings")[0]
    assert (helpful, not_helpful) == ((1, 0) if stored.helpful else (0, 1))


def test_the_last_rating_wins_and_a_sent_rating_is_sent_again(store: Store) -> None:
    line = spoken_line(store)
    give_feedback(store, line.id, Feedback(rating=5, helpful=True))
    ids = [row[0] for row in rows(store, "select id from outbox where kind = 'feedback'")]
    store.outbox.mark_sent(ids)
    give_feedback(store, line.id, Feedback(rating=2, helpful=False))
    assert store.responses.get(line.id).feedback == Feedback(rating=2, helpful=False)
    assert rows(store, "select quality from training_data") == [(0.25,)]
    assert rows(store, "select count(*) from outbox where kind = 'feedback' "
                "and sentAt is null") == [(1,)]  # the change goes up once more
    assert rows(store, "select helpful, notHelpful from trigger_ratings") == [(0, 1)]


# --- erasure ------------------------------------------------------------------------------

def user_rows(store: Store, user_id: str) -> dict[str, int]:
    counts = {table: rows(store, f"select count(*) from {table} where userId = ?", user_id)[0][0]
              for table in USER_TABLES}
    counts["subscriptions"] = rows(store, "select count(*) from subscriptions where userId = ?",
                                   user_id)[0][0]
    return {table: count for table, count in counts.items() if count}


def test_an_erased_user_stays_erased_until_a_new_subscription(store: Store) -> None:
    store.subscriptions.put(Subscription(user_id=USER))
    queued = WorkoutEvent(trigger_id="set-end", user_id=USER)
    store.responses.record_event(queued)
    store.retention.delete_user(USER)
    # What was on its way when the erasure came reaches the store after it: all dropped.
    assert store.responses.add(VoiceResponse(
        user_id=USER, trigger_id="set-end", persona_id="alice", text_content="late line",
        event_id=queued.id)) is False
    assert not store.limits.try_acquire(USER, "coaching_trigger", "free", 10).allowed
    TalkBudget(store.database).record_spoken(USER, 1.0)
    with pytest.raises(UserErased):
        store.responses.record_event(WorkoutEvent(trigger_id="set-end", user_id=USER))
    with pytest.raises(UserErased):
        TalkBudget(store.database).nudge(USER, "less")
    assert user_rows(store, USER) == {}
    assert store.erasures.is_erased(USER) and not store.erasures.is_erased("other")
    # The tombstone holds no readable id.
    assert USER not in str(rows(store, "select * from erasures"))
    store.subscriptions.put(Subscription(user_id=USER))  # a new subscription: back again
    assert not store.erasures.is_erased(USER)
    assert store.responses.record_event(WorkoutEvent(trigger_id="set-end", user_id=USER))


# --- file modes ---------------------------------------------------------------------------

def modes(directory: Path) -> dict[str, int]:
    return {path.name: stat.S_IMODE(path.stat().st_mode) for path in directory.iterdir()}


def test_database_files_are_private_whatever_the_directory(tmp_path: Path) -> None:
    directory = tmp_path / "made-by-the-user"
    directory.mkdir(mode=0o755)
    previous = os.umask(0o022)
    try:
        store = Store.open(directory / "edgecoach.db")
        spoken_line(store)
        assert set(modes(directory)) == {"edgecoach.db", "edgecoach.db-wal", "edgecoach.db-shm"}
        assert set(modes(directory).values()) == {0o600}
        store.close()
        # A file an older version left readable is tightened at the next open.
        os.chmod(directory / "edgecoach.db", 0o644)
        Store.open(directory / "edgecoach.db").close()
        assert modes(directory)["edgecoach.db"] == 0o600
    finally:
        os.umask(previous)


# --- corruption ---------------------------------------------------------------------------

def corrupt(path: Path) -> bytes:
    """Overwrite the root page of the responses table, as a failing card does."""
    with sqlite3.connect(path) as database:
        page = database.execute("PRAGMA page_size").fetchone()[0]
        root = database.execute("select rootpage from sqlite_master where name = "
                                "'voice_responses'").fetchone()[0]
    database.close()
    data = bytearray(path.read_bytes())
    start = (root - 1) * page
    data[start + 8:start + page] = b"\xa5" * (page - 8)
    path.write_bytes(bytes(data))
    return bytes(data)


def test_a_corrupt_database_is_moved_aside_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "edgecoach.db"
    store = Store.open(path)
    for _ in range(200):
        spoken_line(store)
    store.database.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    damaged = corrupt(path)
    with pytest.raises(StoreError, match="corrupt.*moved aside") as refused:
        Store.open(path, quarantine_corrupt=True)
    assert "\n" not in str(refused.value)
    [aside] = [p for p in tmp_path.iterdir() if ".corrupt-" in p.name and
               not p.name.endswith(("-wal", "-shm"))]
    assert aside.read_bytes() == damaged and not path.exists()
    fresh = Store.open(path, quarantine_corrupt=True)  # the next start begins anew
    assert fresh.database.integrity_ok()
    fresh.close()


def test_a_healthy_database_is_opened_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "edgecoach.db"
    store = Store.open(path)
    line = spoken_line(store)
    store.close()
    reopened = Store.open(path, quarantine_corrupt=True)
    assert reopened.responses.get(line.id).text_content == line.text_content
    reopened.close()
    assert [p.name for p in tmp_path.iterdir() if "corrupt" in p.name] == []


def test_a_file_that_is_no_database_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "edgecoach.db"
    path.write_bytes(b"not sqlite at all" * 500)
    with pytest.raises(StoreError, match="not a database.*moved aside"):
        Store.open(path, quarantine_corrupt=True)
    assert not path.exists()


# --- two processes on one file ------------------------------------------------------------

def test_a_read_then_write_survives_a_writer_in_another_connection(tmp_path: Path) -> None:
    """A CLI command writing while the daemon checks a tombstone then inserts: the
    daemon's transaction holds the write lock from its start, so the other waits."""
    path = tmp_path / "edgecoach.db"
    daemon, cli = Store.open(path), Store.open(path)
    reading, written = threading.Event(), threading.Event()

    def other_writer() -> None:
        reading.wait()
        cli.subscriptions.put(Subscription(user_id="other"))
        written.set()

    thread = threading.Thread(target=other_writer)
    thread.start()
    with daemon.database.transaction():
        assert not daemon.erasures.is_erased(USER)  # a read first
        reading.set()
        # A deferred BEGIN would let the other commit now, and the insert below would
        # then fail with "database is locked" (a stale snapshot) without waiting.
        assert not written.wait(0.5)
        spoken_line(daemon)
    thread.join(timeout=15)
    assert written.is_set()
    assert rows(daemon, "select count(*) from voice_responses") == [(1,)]
    daemon.close()
    cli.close()


def test_a_partial_change_does_not_bring_an_erased_user_back(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "edgecoach.db")
    store.subscriptions.put(Subscription(user_id="gone"))
    store.retention.delete_user("gone")
    with pytest.raises(UserErased):
        store.subscriptions.patch("gone", {"preferredPersona": "aiden"})
    assert store.erasures.is_erased("gone") and not store.subscriptions.exists("gone")
    store.close()
