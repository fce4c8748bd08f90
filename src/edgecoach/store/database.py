"""Opening the SQLite file: pragmas, migrations; one writer connection behind a lock, and
a reader connection of its own, so a read never waits on a writer's commit and fsync."""

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import sqlite_utils

from edgecoach.errors import StoreError
from edgecoach.store.schema import migrate

Clock = Callable[[], float]
FILE_MODE = 0o600
SIDE_FILES = ("-wal", "-shm")
# WAL pages after which a synced commit checkpoints (SQLite's default; see unsynced()).
WAL_CHECKPOINT_PAGES = 1000
# What sqlite3 says of a damaged file (not of a busy or unreadable one).
CORRUPTION_WORDS = ("malformed", "not a database", "corrupt")


class Database:
    """A sqlite-utils database shared by worker threads, one writer at a time.

    Every method of the stores runs in a worker thread (asyncio.to_thread), never on the
    event loop. `transaction()` commits before it returns: with WAL and synchronous=FULL
    a committed row survives a crash of the process or of the machine.

    `unsynced()` lets this thread's commits skip the disk sync (the athlete waits for
    them): see there.

    `reading()` has its own connection (WAL lets readers beside the writer): it sees the
    last commit and does not wait while a transaction is open or syncing, e.g. a cache
    hit behind a speculative clip's commit. Inside a transaction of the same thread it
    reads through the writer, so it sees what the transaction wrote.
    """

    def __init__(self, path: Path | str, clock: Clock = time.time,
                 quarantine_corrupt: bool = False) -> None:
        self.path = Path(path)
        self.clock = clock
        self._lock = threading.RLock()
        self._writing = threading.local()  # depth of this thread's transactions, unsynced
        self.db = self._open(quarantine_corrupt)
        self._synchronous = "FULL"  # the writer's PRAGMA synchronous now
        self._read_lock = threading.RLock()
        self._reader = self._open_reader()

    def _open(self, quarantine_corrupt: bool) -> sqlite_utils.Database:
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            make_private(self.path)
            if quarantine_corrupt:
                quarantine_if_corrupt(self.path, self.clock())
        try:
            conn = sqlite3.connect(str(self.path), check_same_thread=False, timeout=10)
            db = sqlite_utils.Database(conn, execute_plugins=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA foreign_keys=ON")
            # Deleted rows are overwritten, so a purged user leaves nothing in the file.
            db.execute("PRAGMA secure_delete=ON")
            db.execute("PRAGMA busy_timeout=10000")
            migrate(db, self.clock())
        except sqlite3.DatabaseError as error:
            raise StoreError(f"{self.path}: cannot open database: {error}") from None
        return db

    def _open_reader(self) -> sqlite_utils.Database | None:
        """A read-only connection to the same file (none for an in-memory database)."""
        if str(self.path) == ":memory:":
            return None
        try:
            conn = sqlite3.connect(str(self.path), check_same_thread=False, timeout=10)
            conn.execute("PRAGMA query_only=ON")
            conn.execute("PRAGMA busy_timeout=10000")
        except sqlite3.DatabaseError as error:
            raise StoreError(f"{self.path}: cannot open database: {error}") from None
        return sqlite_utils.Database(conn, execute_plugins=False)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite_utils.Database]:
        """One atomic unit of work; sqlite errors become StoreError naming the file.

        The outermost one is BEGIN IMMEDIATE: it takes the write lock first (waiting up
        to the busy timeout), so a transaction that reads then writes (a tombstone
        check, then the insert) never fails with "database is locked" because another
        process (a CLI command) wrote in between. A nested one is a savepoint."""
        with self._lock:
            self._writing.depth = getattr(self._writing, "depth", 0) + 1
            try:
                if self.db.conn.in_transaction:
                    with self.db.atomic():
                        yield self.db
                    return
                self._set_synchronous("NORMAL" if getattr(self._writing, "unsynced", False)
                                      else "FULL")
                self.db.conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self.db
                except BaseException:
                    if self.db.conn.in_transaction:
                        self.db.conn.execute("ROLLBACK")
                    raise
                self.db.conn.execute("COMMIT")
            except sqlite3.DatabaseError as error:
                raise StoreError(f"{self.path}: {error}") from error
            finally:
                self._writing.depth -= 1

    def _set_synchronous(self, level: str) -> None:
        """The writer's sync level for its next commit (called holding the lock). An
        unsynced commit never checkpoints the WAL either: a checkpoint copies the WAL into
        the file and syncs it (1.9 MB of clips: 6-18 ms in a cache hit, measured); the
        next synced commit does it instead."""
        if self._synchronous != level:
            checkpoint_pages = 0 if level == "NORMAL" else WAL_CHECKPOINT_PAGES
            self.db.conn.execute(f"PRAGMA synchronous={level}")
            self.db.conn.execute(f"PRAGMA wal_autocheckpoint={checkpoint_pages}")
            self._synchronous = level

    @contextlib.contextmanager
    def unsynced(self) -> Iterator[None]:
        """This thread's commits inside the block are written to the WAL but not synced
        to the disk (synchronous=NORMAL): for what the athlete waits on (an event's row
        and its limit counts before a cached line plays).

        A kill of the process loses none of them (the WAL is written; the kernel holds
        it). A power cut could, until the next synced commit: it syncs the same WAL file,
        so it makes every frame before it durable too. Nor does it checkpoint the WAL (a
        copy and a sync of the file): a synced commit does when the WAL is long. The
        caller ends the block with a synced commit (the spoken line stored, or the event
        marked), and keeps to this block what was not acknowledged to anyone with a sync
        of its own (the API stores an event, synced, before its 202).
        """
        outer = getattr(self._writing, "unsynced", False)
        self._writing.unsynced = True
        try:
            yield
        finally:
            self._writing.unsynced = outer

    @contextlib.contextmanager
    def reading(self) -> Iterator[sqlite_utils.Database]:
        """The last committed state, on the reader connection (see the class)."""
        if self._reader is None or getattr(self._writing, "depth", 0) > 0:
            lock, db = self._lock, self.db
        else:
            lock, db = self._read_lock, self._reader
        with lock:
            try:
                yield db
            except sqlite3.DatabaseError as error:
                raise StoreError(f"{self.path}: {error}") from error

    def integrity_ok(self) -> bool:
        with self.reading() as db:
            return db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    def close(self) -> None:
        with self._lock, self._read_lock:
            self.db.close()
            if self._reader is not None:
                self._reader.close()


def make_private(path: Path) -> None:
    """The database, its WAL and shared memory readable by their owner only (0600),
    whatever the directory or umask: they hold the athlete's heart rate.

    The file is created here at 0600 before SQLite opens it; SQLite gives the -wal and
    -shm files the mode of the database file. Files left by an older version are
    tightened."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, FILE_MODE)
    except OSError as error:
        raise StoreError(f"{path}: cannot open database: {error.strerror}") from None
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    for suffix in SIDE_FILES:
        with contextlib.suppress(FileNotFoundError):
            os.chmod(f"{path}{suffix}", FILE_MODE, follow_symlinks=False)


def quarantine_if_corrupt(path: Path, now: float) -> None:
    """Run PRAGMA quick_check; a corrupt database (with its WAL) is renamed aside, kept,
    never written over, and StoreError names both files."""
    if path.stat().st_size == 0:
        return  # new
    try:
        conn = sqlite3.connect(path, timeout=10)
        try:
            rows = [row[0] for row in conn.execute("PRAGMA quick_check(5)")]
        finally:
            conn.close()
        problem = None if rows == ["ok"] else "; ".join(rows)
    except sqlite3.DatabaseError as error:
        if not any(word in str(error) for word in CORRUPTION_WORDS):
            raise StoreError(f"{path}: cannot open database: {error}") from None
        problem = str(error)
    if problem is None:
        return
    problem = " ".join(problem.split())  # one line, whatever SQLite wrote
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now))
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    # The WAL first, the database last: a kill in between never leaves the old WAL
    # beside a new database (SQLite would replay it into the new file).
    for suffix in (*SIDE_FILES, ""):
        with contextlib.suppress(FileNotFoundError):
            os.rename(f"{path}{suffix}", f"{aside}{suffix}")
    raise StoreError(f"{path}: database is corrupt ({problem[:200]}); moved aside to {aside} "
                     "and kept; the next start creates a new one")
