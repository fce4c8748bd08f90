"""One daemon per data dir: an exclusive `flock` on a file in it, taken before anything.

Two daemons on one data dir would both re-queue the pending events (lines spoken twice)
and fight over the database. The lock is released by the kernel when the process ends,
however it ends (kill -9 included), so a stale lock file never blocks a restart.
"""

import fcntl
import os
from pathlib import Path

from edgecoach.errors import AlreadyRunning, ConfigError

LOCK_NAME = "daemon.lock"
FILE_MODE = 0o600
DIR_MODE = 0o700


class DataDirLock:
    """Held from `acquire()` until `release()` or the end of the process."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> "DataDirLock":
        """Take the lock; AlreadyRunning names the pid that holds it."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
                         FILE_MODE)
        except OSError as error:
            raise ConfigError(f"{self.path}: cannot open the daemon lock: "
                              f"{error.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise AlreadyRunning(f"another edgecoach daemon (pid {holder}) is running on "
                                 f"{self.path.parent}; stop it first") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None
