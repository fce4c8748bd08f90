"""Upstream faults: the real sync client against LocalConvex, on fake time.

A matrix of faults (HTTP 500, 502, 429 with Retry-After, hang until timeout, connection
reset, malformed JSON, `{"status": "error"}`), each as a burst of consecutive failures,
before the batch is stored upstream (lost request) or after (lost reply). For every cell
`UpstreamSync.run` delivers the outbox over a real socket while a fake sleep moves a
fake clock; the campaign checks:

- every outbox item reached upstream, each record under its one UUID (delivered once in
  effect; re-deliveries of the same UUID after a lost reply are counted, harmless);
- every retry delay is within the Backoff bounds of its attempt (a 429's Retry-After
  wins when longer);
- requests = burst + batches needed (no extra traffic).

Then an offline period compressed in time (1 hour; --full: 24 hours) counts the tries,
the CPU seconds and the rows written while the upstream is unreachable.

    python -m campaigns.upstream_faults [--full]
"""

import argparse
import asyncio
import logging
import math
import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from campaigns.harness import UPSTREAM_TOKEN, print_figures, unused_port, wait_until
from edgecoach.contract import VoiceResponse
from edgecoach.resilience import Backoff
from edgecoach.settings import UpstreamSettings
from edgecoach.store import Store
from edgecoach.sync import UpstreamSync
from edgecoach.sync.local_convex import Fault, FaultKind, LocalConvex

USER = "faults"
SMALL = {"bursts": (1, 2), "items": 10, "batch_size": 4, "offline_hours": 1}
FULL = {"bursts": (1, 3, 6), "items": 60, "batch_size": 8, "offline_hours": 24}
HANG_TIMEOUT_SECONDS = 0.3
SYNC_INTERVAL_SECONDS = 60


class FakeTime:
    """A clock that moves only when the sync sleeps; records each delay."""

    def __init__(self) -> None:
        self.now = 1_750_000_000.0
        self.delays: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


@dataclass
class Figures:
    cells: int = 0
    items_expected: int = 0
    items_delivered: int = 0
    items_missing: int = 0
    redeliveries: int = 0
    duplicates_beyond_uuid: int = 0
    retry_delays: int = 0
    retry_delays_out_of_bounds: int = 0
    extra_requests: int = 0
    offline_hours: float = 0
    offline_tries: int = 0
    offline_cpu_seconds: float = 0.0
    offline_rows_written: int = 0
    offline_items_delivered_after: int = 0
    failures: list[str] = field(default_factory=list)


def _fill(store: Store, count: int) -> None:
    for number in range(count):
        store.responses.add(VoiceResponse(
            user_id=USER, trigger_id="workout-end", persona_id="aiden",
            text_content=f"Workout {number} done.", workout_context={"heartRate": 140}))


def _outbox_ids(store: Store) -> set[str]:
    with store.database.reading() as db:
        return {row[0] for row in db.execute("select id from outbox").fetchall()}


async def _deliver(store: Store, url: str, clock: FakeTime, batch_size: int,
                   done: Any) -> None:
    """Run the daemon's sync loop until `done()`; 60 s of real time at most."""
    stop = asyncio.Event()

    async def sleep(seconds: float) -> None:
        await clock.sleep(seconds)
        if await done():
            stop.set()

    settings = UpstreamSettings(url=url, token=UPSTREAM_TOKEN, batch_size=batch_size,
                                timeout_seconds=HANG_TIMEOUT_SECONDS,
                                sync_interval_seconds=SYNC_INTERVAL_SECONDS)
    async with UpstreamSync(store, settings, clock=clock, sleep=sleep,
                            rng=random.Random(len(clock.delays))) as sync:
        await asyncio.wait_for(sync.run(stop), timeout=60)


def _check_pacing(delays: list[float], fault: Fault, burst: int, figures: Figures) -> None:
    backoff = Backoff()
    retry_after = float(fault.retry_after or 0) if fault.kind is FaultKind.RATE_LIMITED else 0
    for attempt, delay in enumerate(delays[:burst]):
        low, high = backoff.bounds(attempt)
        figures.retry_delays += 1
        if not max(low, retry_after) <= delay <= max(high, retry_after):
            figures.retry_delays_out_of_bounds += 1
            figures.failures.append(f"{fault.kind} attempt {attempt}: delay {delay:.2f}")


async def _cell(root: Path, fault: Fault, burst: int, items: int, batch_size: int,
                figures: Figures) -> None:
    store = Store.open(root / f"{fault.kind}-{fault.after_store}-{burst}.db")
    clock = FakeTime()
    store.database.clock = clock
    try:
        _fill(store, items)
        expected = _outbox_ids(store)
        with LocalConvex(token=UPSTREAM_TOKEN) as convex:
            convex.inject(*[fault] * burst)

            async def done() -> bool:
                return await asyncio.to_thread(store.outbox.pending_count) == 0

            await _deliver(store, convex.url, clock, batch_size, done)
        # A hung request is logged when its handler gives up, at the server's stop.
        needed = burst + math.ceil(items / batch_size)
        await asyncio.to_thread(wait_until, lambda: len(convex.requests) >= needed, 5)
        delivered = set(convex.items)
        figures.cells += 1
        figures.items_expected += len(expected)
        figures.items_delivered += len(delivered & expected)
        figures.items_missing += len(expected - delivered)
        figures.duplicates_beyond_uuid += len(delivered - expected)
        figures.redeliveries += convex.duplicates
        _check_pacing(clock.delays, fault, burst, figures)
        # A rejected batch halves the batch size, so allow the batches of the smallest
        # size the burst can reach.
        allowed = burst + math.ceil(items / max(1, batch_size >> burst))
        if not needed <= len(convex.requests) <= allowed:
            figures.extra_requests += len(convex.requests) - needed
            figures.failures.append(f"{fault.kind} x{burst}: {len(convex.requests)} "
                                    f"requests, expected {needed}-{allowed}")
    finally:
        store.close()


async def _offline(root: Path, hours: float, figures: Figures) -> None:
    """The upstream unreachable for `hours` of fake time, then back."""
    store = Store.open(root / "offline.db")
    clock = FakeTime()
    store.database.clock = clock
    port = unused_port()
    server = LocalConvex(token=UPSTREAM_TOKEN, port=port)
    try:
        _fill(store, 5)
        with store.database.reading() as db:
            changes_before = db.conn.total_changes
        offline_until = clock() + hours * 3600
        cpu = time.process_time()
        tries_offline = 0

        async def done() -> bool:
            nonlocal tries_offline, cpu
            if clock() < offline_until:
                tries_offline += 1
                return False
            if server._server is None:
                figures.offline_cpu_seconds = round(time.process_time() - cpu, 3)
                with store.database.reading() as db:
                    figures.offline_rows_written = db.conn.total_changes - changes_before
                await asyncio.to_thread(server.start)
            return len(server.items) == 5

        await _deliver(store, f"http://127.0.0.1:{port}", clock, 200, done)
        figures.offline_hours = hours
        figures.offline_tries = tries_offline
        figures.offline_items_delivered_after = len(server.items)
    finally:
        server.stop()
        store.close()


FAULTS = (FaultKind.HTTP_500, FaultKind.HTTP_502, FaultKind.RATE_LIMITED, FaultKind.HANG,
          FaultKind.RESET, FaultKind.MALFORMED, FaultKind.ERROR_STATUS)


async def run_async(full: bool = False, workdir: Path | None = None) -> Figures:
    size = FULL if full else SMALL
    figures = Figures()
    root = Path(workdir or tempfile.mkdtemp(prefix="faults-"))
    for kind in FAULTS:
        for after_store in (False, True):
            for burst in size["bursts"]:
                fault = Fault(kind, retry_after="1" if burst < 3 else "5",
                              after_store=after_store, hang_seconds=5)
                await _cell(root, fault, burst, size["items"], size["batch_size"], figures)
    await _offline(root, size["offline_hours"], figures)
    return figures


def run(full: bool = False, workdir: Path | None = None) -> Figures:
    """The whole matrix and the offline period; returns the figures."""
    return asyncio.run(run_async(full, workdir))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true",
                        help="bursts of 1, 3 and 6 failures, 60 items, 24 h offline")
    args = parser.parse_args(argv)
    # The sync logs one warning per outage; hundreds of cells make that noise here.
    logging.getLogger("edgecoach").setLevel(logging.ERROR)
    started = time.monotonic()
    figures = run(args.full).__dict__
    figures["wall_seconds"] = round(time.monotonic() - started, 1)
    print_figures("upstream_faults", figures)
    return figures


if __name__ == "__main__":
    main()
