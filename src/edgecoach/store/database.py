"""Opening the SQLite file: pragmas, migrations; one writer connection behind a lock, and
a reader connection of its own, so a read never waits on a writer's commit and fsync."""

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import sqlite_utils

from edgecoach.errors import StoreError
from edgecoach.store.schema import migrate

Clock = Callable[[], float]


class Database:
    """A sqlite-utils database shared by worker threads, one writer at a time.

    Every method of the stores runs in a worker thread (asyncio.to_thread), never on the
    event loop. `transaction()` commits before it returns: with WAL and synchronous=FULL
    a committed row survives a crash of the process or of the machine.

    `reading()` has its own connection (WAL lets readers beside the writer): it sees the
    last commit and does not wait while a transaction is open or syncing, e.g. a cache
    hit behind a speculative clip's commit. Inside a transaction of the same thread it
    reads through the writer, so it sees what the transaction wrote.
    """

    def __init__(self, path: Path | str, clock: Clock = time.time) -> None:
        self.path = Path(path)
        self.clock = clock
        self._lock = threading.RLock()
        self._writing = threading.local()  # depth of this thread's transactions
        self.db = self._open()
        self._read_lock = threading.RLock()
        self._reader = self._open_reader()

    def _open(self) -> sqlite_utils.Database:
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
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
        """One atomic unit of work; sqlite errors become StoreError naming the file."""
        with self._lock:
            self._writing.depth = getattr(self._writing, "depth", 0) + 1
            try:
                with self.db.atomic():
                    yield self.db
            except sqlite3.DatabaseError as error:
                raise StoreError(f"{self.path}: {error}") from error
            finally:
                self._writing.depth -= 1

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
