"""A JSON-lines record of what the coach said or held back, and why."""

import json
import threading
from pathlib import Path
from typing import Any, TextIO


class Transcript:
    """One JSON object a line: workout time, trigger, persona, text, status and reason.

    Written line by line and flushed, so a reader (a coach, a test) sees each decision
    as it happens and a crash loses at most the line being written.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: TextIO = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def write(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._file.write(json.dumps(entry, sort_keys=True) + "\n")
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()


def read_transcript(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as file:
        return [json.loads(line) for line in file if line.strip()]
