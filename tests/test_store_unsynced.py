"""Commits the athlete waits on skip the disk sync; the spoken line's commit syncs them."""

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from edgecoach.audio import NullSink, Player
from edgecoach.contract import Subscription, WorkoutContext, WorkoutEvent
from edgecoach.daemon import build_parts
from edgecoach.pipeline import CoachingPipeline
from edgecoach.settings import load_settings
from edgecoach.store import Database, Store

USER = "unsynced-user"


def synchronous(database: Database) -> int:
    """The writer's level as its transaction sees it (1 NORMAL, 2 FULL)."""
    return database.db.execute("PRAGMA synchronous").fetchone()[0]


def test_commits_inside_the_block_are_unsynced_for_this_thread_only(tmp_path: Path) -> None:
    database = Store.open(tmp_path / "edgecoach.db").database
    seen: dict[str, int] = {}

    def other_thread() -> None:
        with database.transaction():
            seen["other"] = synchronous(database)

    with database.unsynced():
        with database.transaction():
            seen["inside"] = synchronous(database)
        worker = threading.Thread(target=other_thread)
        worker.start()
        worker.join()
    with database.transaction():
        seen["after"] = synchronous(database)
    assert seen == {"inside": 1, "other": 2, "after": 2}
    database.close()


def test_an_unsynced_commit_leaves_the_wal_checkpoint_to_a_synced_one(tmp_path: Path) -> None:
    """A checkpoint copies the WAL into the file and syncs it: not in a commit the athlete
    waits on, even past the WAL length that starts one."""
    path = tmp_path / "edgecoach.db"
    database = Store.open(path).database
    with database.transaction() as db:
        db.execute("create table clips (audio blob)")
    before = path.stat().st_size
    wal_bytes = 6 * 1024 * 1024  # 1,500 pages: over WAL_CHECKPOINT_PAGES
    with database.unsynced():
        for _ in range(24):
            with database.transaction() as db:
                db.execute("insert into clips (audio) values (?)", [os.urandom(wal_bytes // 24)])
    unsynced_size = path.stat().st_size
    with database.transaction() as db:
        db.execute("insert into clips (audio) values (x'00')")
    synced_size = path.stat().st_size
    database.close()
    assert unsynced_size == before  # nothing copied into the file yet
    assert synced_size >= before + wal_bytes  # the synced commit checkpointed all of it


SCRIPT = """
import os, signal, sys
from edgecoach.store import Store
store = Store.open(sys.argv[1])
with store.database.unsynced():
    with store.database.transaction() as db:
        db.execute("create table kept (value text)")
        db.execute("insert into kept (value) values ('unsynced')")
print("committed", flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_an_unsynced_commit_survives_a_kill_of_the_process(tmp_path: Path) -> None:
    path = tmp_path / "edgecoach.db"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(path)], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == -signal.SIGKILL and "committed" in done.stdout, done.stderr
    store = Store.open(path)
    with store.database.reading() as db:
        row = db.execute("select value from kept").fetchone()
    store.close()
    assert row == ("unsynced",)


@pytest.fixture
async def pipeline_and_trace(tmp_path: Path):
    parts = build_parts(load_settings(data_dir=tmp_path / "data"), player=Player(NullSink()))
    parts.devices.has_earbuds = True
    parts.store.subscriptions.put(Subscription(user_id=USER, subscription_type="trainer"))
    statements: list[str] = []
    parts.store.database.db.conn.set_trace_callback(statements.append)
    await parts.player.start()
    yield CoachingPipeline(parts, speculate=False), statements
    await parts.player.close()
    parts.store.close()


def commits(statements: list[str]) -> list[tuple[str, str]]:
    """(the table a transaction wrote first, the sync level it committed at)."""
    level, first, found = "FULL", None, []
    for statement in statements:
        text = " ".join(statement.split())
        if text.startswith("PRAGMA synchronous="):
            level = text.split("=")[1]
        elif text.startswith(("INSERT INTO", "UPDATE", "insert into", "update")) and not first:
            first = text.split()[2].strip('"[]')
        elif text == "COMMIT" and first:
            found.append((first, level))
            first = None
    return found


async def test_an_events_writes_are_unsynced_until_its_line_is_stored(pipeline_and_trace) -> None:
    pipeline, statements = pipeline_and_trace
    event = WorkoutEvent(trigger_id="set-end", user_id=USER, timestamp=1_000,
                         context=WorkoutContext(exercise="squat", reps=5, weight=80))
    outcome = await pipeline.handle(event)
    assert outcome.status == "spoken"
    written = commits(statements)
    spoken_at = written.index(("voice_responses", "FULL"))
    before = written[:spoken_at]
    # The event's row, its coaching count and its clip, before the line: none waited for
    # a sync.
    assert ("events", "NORMAL") in before and ("rate_limits", "NORMAL") in before
    assert ("audio_cache", "NORMAL") in before
    assert all(level == "NORMAL" for _, level in before), before


async def test_a_clip_made_ahead_and_its_note_commit_unsynced(pipeline_and_trace) -> None:
    """Their syncs would hold the writer while a hit's commits wait for it."""
    pipeline, statements = pipeline_and_trace
    speculating = CoachingPipeline(pipeline.parts)
    squat = WorkoutContext(exercise="squat", reps=5, weight=80, set_number=1, total_sets=3,
                           rest_seconds=90)
    await speculating.handle(WorkoutEvent(trigger_id="set-end", user_id=USER, timestamp=1_000,
                                          context=squat))
    assert speculating._speculation is not None
    await speculating._speculation  # the athlete rests: the lines ahead are made
    await speculating.close()
    written = commits(statements)
    ahead = written[written.index(("voice_responses", "FULL")) + 1:]
    assert ahead.count(("speculative_clips", "NORMAL")) == 2, ahead
    assert ahead.count(("audio_cache", "NORMAL")) == 2, ahead
    assert all(level == "NORMAL" for table, level in ahead
               if table in ("speculative_clips", "audio_cache")), ahead
