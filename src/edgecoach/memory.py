"""Keeping a long-running process small: glibc's heap gives memory back.

ONNX Runtime's arena is bounded by the decoder's windows (voice/vits.py); what Python
and numpy free (audio arrays, treatment buffers, request bodies) stays in glibc's heap
unless trimmed, and every thread that allocates gets a heap ("arena") of its own.
"""

import ctypes
import ctypes.util
import logging
from typing import Any

log = logging.getLogger(__name__)

M_ARENA_MAX = -8  # mallopt parameter, from glibc's malloc.h
# The daemon's worker threads (SQLite, ONNX, Piper, the API) each held a fragmented heap:
# over 4,000 API events RSS grew 44 MB after warm-up with glibc's default (8 per core),
# 10 MB with 2.
MALLOC_ARENAS = 2


def _glibc() -> Any:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        return libc if libc is not None and hasattr(libc, "malloc_trim") else None
    except OSError:  # not glibc (musl, macOS): nothing to tune
        return None


_LIBC = _glibc()


def release_freed_heap() -> None:
    """Return freed heap pages to the OS (glibc keeps them otherwise)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def limit_heap_arenas() -> None:
    """Cap glibc's per-thread heaps; call once at start, before worker threads exist."""
    if _LIBC is not None and not _LIBC.mallopt(M_ARENA_MAX, MALLOC_ARENAS):
        log.warning("mallopt(M_ARENA_MAX) refused: the heap is not capped")
