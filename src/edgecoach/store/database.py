"""Opening the SQLite file: pragmas, migrations, and one lock for the one connection."""

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
    """

    def __init__(self, path: Path | str, clock: Clock = time.time) -> None:
        self.path = Path(path)
        self.clock = clock
        self._lock = threading.RLock()
        self.db = self._open()

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

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite_utils.Database]:
        """One atomic unit of work; sqlite errors become StoreError naming the file."""
        with self._lock:
            try:
                with self.db.atomic():
                    yield self.db
            except sqlite3.DatabaseError as error:
                raise StoreError(f"{self.path}: {error}") from error

    @contextlib.contextmanager
    def reading(self) -> Iterator[sqlite_utils.Database]:
        with self._lock:
            try:
                yield self.db
            except sqlite3.DatabaseError as error:
                raise StoreError(f"{self.path}: {error}") from error

    def integrity_ok(self) -> bool:
        with self.reading() as db:
            return db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    def close(self) -> None:
        with self._lock:
            self.db.close()
