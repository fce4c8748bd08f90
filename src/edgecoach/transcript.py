"""A JSON-lines record of what the coach said or held back, and why."""

import json
import os
import stat
import threading
from pathlib import Path
from typing import Any, TextIO

from edgecoach.errors import ValidationFailed


class Transcript:
    """One JSON object a line: workout time, trigger, persona, text, status and reason.

    Written line by line and flushed, so a reader (a coach, a test) sees each decision
    as it happens and a crash loses at most the line being written.
    """

    def __init__(self, path: Path, fresh: bool = False) -> None:
        """Append to `path`, or with `fresh` start it empty. Only a regular file is
        written: a device, a FIFO, a directory or a symlink given as the path is refused
        (ValidationFailed) and left as it was; nothing is ever unlinked."""
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: TextIO = _open_regular(path, fresh)
        self._lock = threading.Lock()

    def write(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._file.write(json.dumps(entry, sort_keys=True) + "\n")
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()


def _open_regular(path: Path, fresh: bool) -> TextIO:
    refused = ValidationFailed("transcript", f"{path} is not a regular file; refusing it")
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise refused
    # Checked again on the open file (the path may change meanwhile). O_NONBLOCK: opening
    # a FIFO must not hang; no O_TRUNC before the file is known to be regular.
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_NONBLOCK
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as error:
        raise ValidationFailed("transcript", f"{path}: {error.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise refused
    os.set_blocking(fd, True)
    if fresh:
        os.ftruncate(fd, 0)
    return os.fdopen(fd, "a", encoding="utf-8")


def read_transcript(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as file:
        return [json.loads(line) for line in file if line.strip()]
