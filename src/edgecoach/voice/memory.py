"""Keeping a long-running voice small: ONNX Runtime's arena and glibc's heap give memory
back after each line.

Without this, the process grows to the high-water mark of the longest sentence ever
synthesized and stays there (about 330 MB after 200 corpus lines); with it, about 140 MB
between lines and a peak of one line's working set.
"""

import ctypes
import ctypes.util
import logging
from typing import Any

import onnxruntime

log = logging.getLogger(__name__)


class ArenaShrinkingSession:
    """Wraps an onnxruntime.InferenceSession: every run frees the CPU arena's unused chunks.

    Piper calls `session.run(None, feeds)`; the proxy adds the run option, and passes
    everything else through to the real session.
    """

    def __init__(self, session: onnxruntime.InferenceSession) -> None:
        self.session = session
        self._options = onnxruntime.RunOptions()
        self._options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")

    def run(self, output_names: Any, input_feed: dict[str, Any],
            run_options: onnxruntime.RunOptions | None = None) -> list[Any]:
        return self.session.run(output_names, input_feed, run_options or self._options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.session, name)


def _glibc_malloc_trim() -> Any:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return None


_MALLOC_TRIM = _glibc_malloc_trim()


def release_freed_heap() -> None:
    """Return freed heap pages to the OS (glibc keeps them otherwise)."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)
