"""`--pi-class`: a lower bound of a Raspberry Pi's margin, measured on this machine.

The benchmark process is pinned to one core (every thread it has, and so every thread
it starts) and every thread pool is one thread: the voice's ONNX Runtime sessions
(`voice_threads = 1`, none spinning) beside the coach model's, which always runs on one.
A Pi 4 or 5 has four slower cores; one core of this machine with nothing beside it is
not a Pi, but a figure that holds here holds with the rest of a Pi's cores free.
"""

import contextlib
import os
from pathlib import Path

PI_CLASS_THREADS = 1
HELP = "pinned to one core, every thread pool at one thread (a lower bound of a Pi's margin)"


def pin_to_one_core() -> int:
    """Pin every thread of this process to its lowest allowed core; returns the core."""
    core = min(os.sched_getaffinity(0))
    for task in Path("/proc/self/task").iterdir():
        with contextlib.suppress(ProcessLookupError):  # a thread that ended meanwhile
            os.sched_setaffinity(int(task.name), {core})
    return core


def voice_threads(pi_class: bool) -> int | None:
    """For `--pi-class`: pin this process and say so, and give the voice its one thread;
    otherwise None (the voice's default pools)."""
    if not pi_class:
        return None
    print(f"pi-class: pinned to core {pin_to_one_core()}, voice threads {PI_CLASS_THREADS}")
    return PI_CLASS_THREADS
