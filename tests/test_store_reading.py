"""Reads have their own connection: a cache hit does not wait on a writer's open transaction."""

import sqlite3
import threading
from pathlib import Path

import numpy as np
import pytest

from edgecoach.store import Store
from edgecoach.voice.cache import AudioCache
from edgecoach.voice.synthesizer import Audio

WAIT_S = 5.0


def clip() -> Audio:
    return Audio((np.sin(np.arange(22050) / 20) * 8000).astype(np.int16), 22050)


def test_a_hit_completes_while_a_writer_holds_a_transaction_open(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "edgecoach.db")
    cache = AudioCache(store.database, budget_bytes=10**8, ttl_seconds=3600)
    cache.put("cached", "alice", clip())
    inside, release = threading.Event(), threading.Event()

    def writer() -> None:  # a speculative clip's commit, held open
        with store.database.transaction() as db:
            db.execute("delete from audio_cache where cacheKey = 'cached'")
            inside.set()
            release.wait(WAIT_S * 2)

    writing = threading.Thread(target=writer)
    writing.start()
    assert inside.wait(WAIT_S)
    found: list[Audio | None] = []
    reader = threading.Thread(target=lambda: found.append(cache.get("cached")))
    reader.start()
    reader.join(WAIT_S)
    try:
        assert not reader.is_alive(), "the read waited for the writer's transaction"
        assert writing.is_alive()  # the transaction was still open during the read
        # The last commit is what is read: the uncommitted delete is not seen.
        assert found[0] is not None and np.array_equal(found[0].samples, clip().samples)
    finally:
        release.set()
        writing.join()
        reader.join()
    assert cache.get("cached") is None  # committed now
    store.close()


def test_a_read_inside_a_transaction_sees_that_transactions_writes(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "edgecoach.db")
    with store.database.transaction() as db:
        db.execute("insert into personas (id, name) values ('p1', 'P')")
        with store.database.reading() as reading:
            assert reading.execute("select count(*) from personas where id = 'p1'"
                                   ).fetchone()[0] == 1
    store.close()


def test_the_reader_cannot_write(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "edgecoach.db")
    with store.database.reading() as db, pytest.raises(sqlite3.OperationalError,
                                                       match="readonly"):
        db.execute("delete from audio_cache")
    store.close()
