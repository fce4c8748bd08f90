"""Load: a stream of events through the API with the free tier's limits active.

Users on the free tier get workout-end events (event times 60 s apart, so the talk
budget's gap never holds a line back). Half the users keep the default daily cap (the
hourly limit of 50 coaching lines binds), half get `maxDailyCoaching` = 15 (the daily
cap binds). The campaign checks:

- limits enforced exactly: per user, lines allowed = min(events, cap) (for the hourly
  cap, per hour window: the cap exactly where the window had the events to reach it), and
  spoken + TTS-limit-suppressed + coaching-limit-suppressed = events (nothing else);
- no event lost: every 202 has an events row with a final status;
- memory flat: VmRSS of the daemon at ready, after warm-up (first lines spoken) and at
  the end, and its peak (VmHWM): while loading (at ready), and under load (from ready).

    python -m campaigns.load            # 200 events in 30 s, 2 users
    python -m campaigns.load --full     # 1,000 events/min for 10 min, compressed 10x, 4 users
"""

import argparse
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from campaigns.harness import DaemonProcess, print_figures, wait_until
from edgecoach.store.limits import HOURLY_LIMITS

DAILY_CAP = 15
HOURLY_CAP = HOURLY_LIMITS["free"]["coaching_trigger"]
SMALL = {"events": 200, "seconds": 30.0, "users": 2}
FULL = {"events": 10_000, "seconds": 60.0, "users": 4}  # 10 min at 1,000/min, 10x faster
FINAL = ("spoken", "suppressed", "failed")
# Events created in one hour window but decided in the next (the daemon's backlog).
SPILL = 500


@dataclass
class Figures:
    events_posted: int = 0
    events_accepted: int = 0
    post_seconds: float = 0.0
    drain_seconds: float = 0.0
    events_lost: int = 0
    events_not_final: int = 0
    per_user: dict[str, dict[str, int]] = field(default_factory=dict)
    limit_mismatches: int = 0
    hour_boundary_crossed: bool = False
    rss_kb_ready: int = 0
    rss_kb_warm: int = 0
    rss_kb_end: int = 0
    rss_kb_peak: int = 0  # the most the daemon ever held: the larger of the two below
    rss_kb_peak_start: int = 0  # VmHWM at ready: the peak of loading
    rss_kb_peak_load: int = 0  # VmHWM at the end, counted from ready: the peak under load
    notes: list[str] = field(default_factory=list)


def _users(count: int) -> dict[str, int]:
    """user id -> the cap that binds."""
    return {f"load-{number}": HOURLY_CAP if number % 2 == 0 else DAILY_CAP
            for number in range(count)}


def _count(database: Path, user: str) -> dict[str, int]:
    connection = sqlite3.connect(database)
    try:
        rows = connection.execute("select status, reason, count(*) from events "
                                  "where userId = ? group by 1, 2", [user]).fetchall()
        counted = dict(connection.execute(
            "select windowStart, requestCount from rate_limits where userId = ? and "
            "requestType = 'coaching_trigger' and windowSize = 3600", [user]).fetchall())
        created = dict(connection.execute(
            "select createdAt - createdAt % 3600, count(*) from events where userId = ? "
            "group by 1", [user]).fetchall())
    finally:
        connection.close()
    counts = {"events": 0, "spoken": 0, "tts_limited": 0, "coaching_limited": 0, "other": 0,
              "hour_windows": len(counted), "hour_limit_ok": _hourly_exact(counted, created)}
    for status, reason, number in rows:
        counts["events"] += number
        if status == "spoken":
            counts["spoken"] += number
        elif reason == "tts limit reached":
            counts["tts_limited"] += number
        elif reason and ("coaching_trigger limit" in reason or "daily coaching" in reason):
            counts["coaching_limited"] += number
        else:
            counts["other"] += number
    return counts


def _hourly_exact(counted: dict[float, int], created: dict[float, int]) -> int:
    """1 if the hourly cap held exactly: in a run within one hour, min(events, cap); in
    a run across the hour, at most the cap in each window, and the cap itself in a window
    that had events enough to reach it whatever the backlog carried over its edge."""
    if len(counted) == 1:
        return int(next(iter(counted.values())) == min(sum(created.values()), HOURLY_CAP))
    for start, lines in counted.items():
        if lines > HOURLY_CAP or (created.get(start, 0) >= HOURLY_CAP + SPILL
                                  and lines != HOURLY_CAP):
            return 0
    return 1


def _final(database: Path) -> int:
    connection = sqlite3.connect(database)
    try:
        return connection.execute(
            "select count(*) from events where userId like 'load-%' and status in "
            "('spoken', 'suppressed', 'failed')").fetchone()[0]
    finally:
        connection.close()


def run(events: int = SMALL["events"], seconds: float = SMALL["seconds"],
        users: int = SMALL["users"], workdir: Path | None = None) -> Figures:
    """Post `events` spread over `seconds` to `users` free-tier users; returns the figures."""
    figures = Figures()
    root = Path(workdir or tempfile.mkdtemp(prefix="load-"))
    database = root / "data" / "edgecoach.db"
    caps = _users(users)
    accepted: set[str] = set()
    with DaemonProcess(root / "data") as daemon:
        daemon.wait_ready()
        figures.rss_kb_ready = daemon.rss_kb()
        figures.rss_kb_peak_start = daemon.rss_kb("VmHWM")
        daemon.reset_peak()
        # Every user shares the owner's hourly tier: a trainer owner leaves each free user
        # its own limits to reach.
        daemon.client.put("/v1/users/athlete/subscription", json={
            "userId": "athlete", "subscriptionType": "trainer"}).raise_for_status()
        for user, cap in caps.items():
            if cap == DAILY_CAP:
                reply = daemon.client.put(f"/v1/users/{user}/subscription", json={
                    "userId": user, "subscriptionType": "free",
                    "devicePreferences": {"maxDailyCoaching": DAILY_CAP}})
                reply.raise_for_status()
        names = list(caps)
        # A minute apart and all in the past, marked as a replay: 10,000 minutes do not fit
        # in the 24 h a live event may be old, and no event may be dated ahead of the daemon.
        base = time.time() - 60 * events
        started = time.monotonic()
        for number in range(events):
            user = names[number % len(names)]
            due = started + seconds * number / events
            time.sleep(max(0.0, due - time.monotonic()))
            reply = daemon.post_event({
                "triggerId": "workout-end", "userId": user,
                "timestamp": base + 60 * number, "source": "replay",
                "context": {"totalSets": number % 12 + 1, "volume": 50 * (number % 40)}})
            figures.events_posted += 1
            if reply.status_code == 202:
                accepted.add(reply.json()["eventId"])
            if number == min(events - 1, 4 * len(names)) and not figures.rss_kb_warm:
                wait_until(lambda: _final(database) >= 2 * len(names), timeout=120)
                figures.rss_kb_warm = daemon.rss_kb()
        figures.post_seconds = round(time.monotonic() - started, 1)
        figures.events_accepted = len(accepted)
        drain = time.monotonic()
        if not wait_until(lambda: _final(database) >= len(accepted), timeout=600, every=0.5):
            figures.notes.append("not every accepted event was final after 600 s")
        figures.drain_seconds = round(time.monotonic() - drain, 1)
        figures.rss_kb_end = daemon.rss_kb()
        figures.rss_kb_peak_load = daemon.rss_kb("VmHWM")
        figures.rss_kb_peak = max(figures.rss_kb_peak_start, figures.rss_kb_peak_load)
        daemon.terminate()
    connection = sqlite3.connect(database)
    try:
        stored = dict(connection.execute(
            "select id, status from events where userId like 'load-%'").fetchall())
    finally:
        connection.close()
    figures.events_lost = len(accepted - set(stored))
    figures.events_not_final = sum(1 for event_id in accepted
                                   if stored.get(event_id, "spoken") not in FINAL)
    for user, cap in caps.items():
        counts = _count(database, user)
        figures.per_user[user] = {**counts, "cap": cap}
        figures.hour_boundary_crossed |= counts["hour_windows"] > 1
        allowed = counts["spoken"] + counts["tts_limited"]
        exact = (counts["hour_limit_ok"] if cap == HOURLY_CAP
                 else allowed == min(counts["events"], cap))
        if not exact or counts["other"] or (
                allowed + counts["coaching_limited"] != counts["events"]):
            figures.limit_mismatches += 1
    return figures


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true",
                        help="10,000 events in 60 s (1,000/min for 10 min, 10x compressed)")
    args = parser.parse_args(argv)
    size = FULL if args.full else SMALL
    figures = run(size["events"], size["seconds"], size["users"]).__dict__
    print_figures("load", figures)
    return figures


if __name__ == "__main__":
    main()
