"""Keeping a long-running voice small: glibc's heap gives memory back after each line.

ONNX Runtime's arena is bounded by the decoder's windows (vits.SplitVitsSession); what
Python and numpy freed (audio arrays, treatment buffers) stays in glibc's heap unless
trimmed.
"""

import ctypes
import ctypes.util
from typing import Any


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
