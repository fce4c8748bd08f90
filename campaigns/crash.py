"""Crash safety: kill -9 the daemon at a random moment while events and feedback arrive.

Each trial starts the daemon on the same data directory, posts coaching events and
feedback through the API from one client, and SIGKILLs the daemon at a random moment;
the next start checks what the API had acknowledged before the kill:

- a response listed by GET /v1/responses, or a feedback answered 2xx, must still be
  there (lost = 0);
- every stored response and feedback has its outbox item, sent or pending (lost = 0);
- `PRAGMA integrity_check` is ok after every kill;
- upstream (LocalConvex) holds each record under one UUID: a re-delivery of the same
  UUID after a kill is counted (`redeliveries`) but harmless; a record sent under two
  UUIDs (`duplicates_beyond_uuid`) would not be.

Known gap, counted apart: POST /v1/events answers 202 once the event is on the in-memory
queue, before it is stored, so an event still queued at the kill is gone
(`events_queued_at_kill_lost`). Events stored but not yet finished stay "received".

    python -m campaigns.crash [--full]      # 5 trials; --full: 50
"""

import argparse
import random
import sqlite3
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from campaigns.harness import UPSTREAM_TOKEN, DaemonProcess, print_figures, wait_until
from edgecoach.sync.local_convex import LocalConvex

SMALL_TRIALS = 5
FULL_TRIALS = 50
KILL_WINDOW_SECONDS = (0.3, 3.0)
# The client posts while the daemon's queue is short: a burst far faster than lines can
# be spoken only grows a backlog that the restarts carry over (and that the final drain
# must clear), whatever the machine's speed.
MAX_QUEUED = 5


@dataclass
class Acknowledged:
    """What the API confirmed before a kill."""

    events: set[str] = field(default_factory=set)
    responses: set[str] = field(default_factory=set)
    feedback: dict[str, int] = field(default_factory=dict)  # response id -> rating


@dataclass
class Figures:
    trials: int = 0
    events_acknowledged: int = 0
    responses_acknowledged: int = 0
    feedback_acknowledged: int = 0
    responses_lost: int = 0
    feedback_lost: int = 0
    outbox_items_lost: int = 0
    integrity_failures: int = 0
    events_queued_at_kill_lost: int = 0
    events_unfinished_at_kill: int = 0
    events_resumed: int = 0  # of those unfinished at a kill, final after the restarts
    events_not_resumed: int = 0
    upstream_items: int = 0
    upstream_pending_after_drain: int = 0
    redeliveries: int = 0
    duplicates_beyond_uuid: int = 0
    restart_seconds_max: float = 0.0
    notes: list[str] = field(default_factory=list)


def _traffic(daemon: DaemonProcess, user: str, acked: Acknowledged, stop: threading.Event,
             rng: random.Random) -> None:
    """Post events and feedback until the daemon dies; record what was acknowledged."""
    # A minute apart (past the talk budget's gap), starting four minutes back: the daemon
    # dates no event after its arrival, and resumes after a restart only events younger
    # than five minutes. Later ones arrive at the daemon's time.
    base = time.time() - 4 * 60
    number = 0
    try:
        while not stop.is_set():
            number += 1
            event = {"triggerId": "workout-end", "userId": user,
                     "timestamp": min(base + 60 * number, time.time()),
                     "context": {"totalSets": number, "volume": 100 * number,
                                 "heartRate": rng.randint(110, 170)}}
            reply = daemon.post_event(event)
            if reply.status_code == 202:
                acked.events.add(reply.json()["eventId"])
            listed = daemon.responses(user)
            acked.responses.update(response["id"] for response in listed)
            for response in listed:
                if response["id"] in acked.feedback or response["feedback"]:
                    continue
                rating = rng.randint(1, 5)
                answer = daemon.client.post(f"/v1/responses/{response['id']}/feedback",
                                            json={"rating": rating, "helpful": rating >= 3})
                if answer.is_success:
                    acked.feedback[response["id"]] = rating
            time.sleep(rng.uniform(0, 0.05))
            while daemon.queue_size() > MAX_QUEUED and not stop.is_set():
                time.sleep(0.05)
    except (httpx.TransportError, httpx.HTTPStatusError, RuntimeError):
        # The kill: a request in flight is not acknowledged, and the killed daemon's
        # client is closed (httpx raises RuntimeError for a request after that).
        pass


def _integrity(database: Path) -> bool:
    connection = sqlite3.connect(database)
    try:
        return connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        connection.close()


def _check(daemon: DaemonProcess, database: Path, user: str, acked: Acknowledged,
           figures: Figures) -> None:
    """After the restart: what the API acknowledged before the kill is still there."""
    listed = {response["id"]: response for response in daemon.responses(user)}
    figures.responses_lost += len(acked.responses - set(listed))
    for response_id, rating in acked.feedback.items():
        feedback = (listed.get(response_id) or {}).get("feedback") or {}
        figures.feedback_lost += feedback.get("rating") != rating
    connection = sqlite3.connect(database)
    try:
        stored = dict(connection.execute(
            "select id, status from events where userId = ?", [user]).fetchall())
        figures.events_queued_at_kill_lost += len(acked.events - set(stored))
        figures.events_unfinished_at_kill += sum(
            1 for status in stored.values() if status == "received")
        outbox = set(connection.execute(
            "select kind, recordId from outbox where userId = ?", [user]).fetchall())
        for (response_id, has_feedback) in connection.execute(
                "select id, feedback is not null and feedback != 'null' from voice_responses "
                "where userId = ?", [user]).fetchall():
            figures.outbox_items_lost += ("voice_response", response_id) not in outbox
            if has_feedback:
                figures.outbox_items_lost += ("feedback", response_id) not in outbox
    finally:
        connection.close()


def _upstream(database: Path, convex: LocalConvex, figures: Figures) -> None:
    connection = sqlite3.connect(database)
    try:
        rows = connection.execute("select id, kind, recordId, sentAt from outbox").fetchall()
    finally:
        connection.close()
    figures.upstream_pending_after_drain = sum(1 for row in rows if row[3] is None)
    by_uuid = {row[0]: (row[1], row[2]) for row in rows}
    records: dict[tuple[str, str], set[str]] = {}
    for item_id in convex.items:
        kind_record = by_uuid.get(item_id)
        # coaching_state is a snapshot per user: several UUIDs for one user are expected.
        if kind_record and kind_record[0] != "coaching_state":
            records.setdefault(kind_record, set()).add(item_id)
    figures.upstream_items = len(convex.items)
    figures.redeliveries = convex.duplicates
    figures.duplicates_beyond_uuid = sum(len(ids) - 1 for ids in records.values())


def run(trials: int = SMALL_TRIALS, seed: int = 7, workdir: Path | None = None) -> Figures:
    """Run `trials` kill -9 trials; returns the figures."""
    rng = random.Random(seed)
    figures = Figures()
    root = Path(workdir or tempfile.mkdtemp(prefix="crash-"))
    data_dir = root / "data"
    database = data_dir / "edgecoach.db"
    unfinished: set[str] = set()  # events a kill left "received"
    with LocalConvex(token=UPSTREAM_TOKEN) as convex:
        daemon = DaemonProcess(data_dir, upstream=convex.url)
        daemon.wait_ready()
        for trial in range(trials):
            user = f"crash-{trial}"
            # Trainer tier, set in the cloud (which wins for the tier, docs/upstream.md), for
            # the owner (every user shares its hourly cap, docs/api.md) and the trial's
            # user: a free tier's 20 clips an hour would end the lines, not a crash.
            for tiered in ("athlete", user):
                convex.cloud.update_subscription(tiered, subscriptionType="trainer")
            acked = Acknowledged()
            stop = threading.Event()
            worker = threading.Thread(target=_traffic, args=(daemon, user, acked, stop, rng))
            worker.start()
            # The precondition, whatever the machine's load: a line was acknowledged
            # before the kill, which then comes at a random moment after it.
            if not wait_until(lambda: bool(acked.responses),  # noqa: B023 (called here)
                              timeout=120, every=0.05):
                figures.notes.append(f"trial {trial}: no response acknowledged in 120 s")
            time.sleep(rng.uniform(*KILL_WINDOW_SECONDS))
            daemon.kill9()
            stop.set()
            worker.join(timeout=60)
            figures.trials += 1
            figures.integrity_failures += not _integrity(database)
            unfinished |= _received(database)
            daemon = DaemonProcess(data_dir, port=daemon.port, upstream=convex.url)
            figures.restart_seconds_max = max(figures.restart_seconds_max,
                                              round(daemon.wait_ready(), 2))
            figures.events_acknowledged += len(acked.events)
            figures.responses_acknowledged += len(acked.responses)
            figures.feedback_acknowledged += len(acked.feedback)
            _check(daemon, database, user, acked, figures)
        drained = wait_until(lambda: _pending(database) == 0, timeout=60)
        if not drained:
            figures.notes.append("outbox not drained within 60 s")
        daemon.terminate()
        figures.integrity_failures += not _integrity(database)
        still = _received(database)
        figures.events_not_resumed = len(unfinished & still)
        figures.events_resumed = len(unfinished - still)
        _upstream(database, convex, figures)
    return figures


def _received(database: Path) -> set[str]:
    """Events stored and not finished (spoken, held back or failed)."""
    connection = sqlite3.connect(database)
    try:
        return {row[0] for row in connection.execute(
            "select id from events where status = 'received'")}
    finally:
        connection.close()


def _pending(database: Path) -> int:
    """Outbox items not sent yet, plus events the restarted daemon is still handling
    (each may add items)."""
    connection = sqlite3.connect(database)
    try:
        return connection.execute(
            "select (select count(*) from outbox where sentAt is null) + "
            "(select count(*) from events where status = 'received')").fetchone()[0]
    finally:
        connection.close()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help=f"{FULL_TRIALS} trials")
    parser.add_argument("--trials", type=int, help="any number of trials")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    trials = args.trials or (FULL_TRIALS if args.full else SMALL_TRIALS)
    figures = run(trials, args.seed).__dict__
    print_figures("crash", figures)
    return figures


if __name__ == "__main__":
    main()
