"""`python -m edgecoach.bench outbox`: how fast the outbox drains to a local upstream.

Fills a fresh SQLite store with real records (voice responses, then feedback on some of
them, which queues a feedback and a training-data item each) until the outbox holds
`--items` items, starts the local Convex stand-in (edgecoach.sync.local_convex) and
times `UpstreamSync.sync_once()` until nothing is due. Prints the fill time, the
delivery time, items/s, requests and what the server received. Target: 10,000 items
in <= 10 s.
"""

import argparse
import asyncio
import random
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr

from edgecoach.contract import Feedback, PrivacySettings, Subscription, VoiceResponse
from edgecoach.contract.vocabulary import PERSONA_IDS, TRIGGER_IDS
from edgecoach.settings import UpstreamSettings
from edgecoach.store import Store
from edgecoach.sync import SyncReport, UpstreamSync
from edgecoach.sync.local_convex import LocalConvex

USER_ID = "bench-athlete"
TOKEN = "bench-token"
# One response in four gets feedback: it queues two more items (feedback, training data).
FEEDBACK_SHARE = 4


def fill(store: Store, items: int, rng: random.Random) -> None:
    """Queue about `items` outbox items through the store's real write paths."""
    store.subscriptions.put(Subscription(
        user_id=USER_ID, privacy_settings=PrivacySettings(allow_ai_training=True)))
    responses = []
    queued = 0
    while queued < items:
        response = VoiceResponse.model_validate({
            "userId": USER_ID, "triggerId": rng.choice(TRIGGER_IDS),
            "personaId": rng.choice(PERSONA_IDS),
            "textContent": f"Set {rng.randint(1, 6)} done: {rng.randint(3, 15)} reps, breathe.",
            "workoutContext": {"exercise": "squat", "reps": rng.randint(3, 15),
                               "heartRate": rng.randint(90, 190)},
        })
        store.responses.add(response)
        responses.append(response.id)
        queued += 1
        if len(responses) % FEEDBACK_SHARE == 0 and queued + 2 <= items:
            store.responses.set_feedback(response.id, Feedback(
                rating=rng.randint(1, 5), helpful=True, comments="good cue, mail me a@b.example"))
            queued += 2


async def deliver(store: Store, url: str, batch_size: int) -> SyncReport:
    settings = UpstreamSettings(url=url, token=SecretStr(TOKEN), batch_size=batch_size)
    async with UpstreamSync(store, settings) as sync:
        return await sync.sync_once()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m edgecoach.bench outbox",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=UpstreamSettings().batch_size)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "edgecoach.db")
        started = time.perf_counter()
        # The fill is not the measured figure: skip its per-transaction fsync, then time
        # the delivery with the daemon's synchronous=FULL back on.
        store.database.db.execute("PRAGMA synchronous=OFF")
        fill(store, args.items, random.Random(args.seed))
        store.database.db.execute("PRAGMA synchronous=FULL")
        fill_seconds = time.perf_counter() - started
        pending = store.outbox.pending_count()
        with LocalConvex(token=TOKEN) as server:
            started = time.perf_counter()
            report = asyncio.run(deliver(store, server.url, args.batch_size))
            seconds = time.perf_counter() - started
        left = store.outbox.pending_count()
        store.close()

    print(f"outbox items       {pending} (filled in {fill_seconds:.1f} s)")
    print(f"batch size         {args.batch_size} ({report.batches} requests)")
    print(f"delivered          {len(server.items)} distinct, {server.duplicates} duplicates, "
          f"{left} left pending, {report.dropped} dropped")
    print(f"total seconds      {seconds:.2f}")
    print(f"items/s            {report.sent / seconds:.0f}")
    target = "met" if report.sent >= 10_000 and seconds <= 10 else "not met"
    print(f"target (10,000 items <= 10 s): {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
