"""`python -m edgecoach.bench contention`: cache hits while a writer stores clips.

A daemon stores a speculative clip (a commit with fsync) while a live event reads its
line from the cache. This times `AudioCache.get` of a 3 s clip, every 10 ms, while a
thread stores other 3 s clips back to back on the same file: p50 / p95 / max, and the
same with no writer.
"""

import argparse
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from edgecoach.store import Store
from edgecoach.voice.cache import AudioCache
from edgecoach.voice.synthesizer import Audio

CLIP = Audio((np.sin(np.arange(22050 * 3) / 20) * 8000).astype(np.int16), 22050)


def hit_times(cache: AudioCache, reads: int) -> list[float]:
    times = []
    for _ in range(reads):
        started = time.perf_counter()
        assert cache.get("hit") is not None
        times.append((time.perf_counter() - started) * 1000)
        time.sleep(0.01)
    return times


def measure(reads: int, with_writer: bool) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "edgecoach.db")
        cache = AudioCache(store.database, 10**9, 86400)
        cache.put("hit", "alice", CLIP)
        stop = threading.Event()

        def write() -> None:
            count = 0
            while not stop.is_set():
                cache.put(f"clip-{count}", "alice", CLIP)
                count += 1

        writer = threading.Thread(target=write)
        if with_writer:
            writer.start()
        try:
            return hit_times(cache, reads)
        finally:
            stop.set()
            if with_writer:
                writer.join()
            store.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m edgecoach.bench contention")
    parser.add_argument("--reads", type=int, default=300)
    args = parser.parse_args(argv)
    for with_writer in (False, True):
        times = measure(args.reads, with_writer)
        print(f"cache hit, {'a writer storing clips' if with_writer else 'no writer':<22} "
              f"p50 {np.percentile(times, 50):5.1f} ms  p95 {np.percentile(times, 95):5.1f} ms"
              f"  max {max(times):5.1f} ms")


if __name__ == "__main__":
    main()
