"""The daemon started as a user starts it: a subprocess, the real API, a local upstream."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.convex_server import TOKEN, Fault, FaultKind, LocalConvex, unused_port

USER = "athlete"
SET_EVENTS = [
    {"triggerId": "pre-start", "context": {"sleepHours": 7.5}},
    {"triggerId": "set-start", "context": {"exercise": "squat", "reps": 5, "weight": 80,
                                           "setNumber": 1}},
    {"triggerId": "set-end", "context": {"exercise": "squat", "reps": 5, "weight": 80,
                                         "setNumber": 1, "restSeconds": 90,
                                         "heartRate": 151}},
    {"triggerId": "workout-end", "context": {"totalSets": 1, "volume": 400, "heartRate": 140,
                                             "peakHeartRate": 160}},
]


class RunningDaemon:
    def __init__(self, data_dir: Path, port: int, upstream: str) -> None:
        env = dict(os.environ, EDGECOACH_DATA_DIR=str(data_dir),
                   EDGECOACH_API__PORT=str(port), EDGECOACH_UPSTREAM__URL=upstream,
                   EDGECOACH_UPSTREAM__TOKEN=TOKEN,
                   EDGECOACH_UPSTREAM__SYNC_INTERVAL_SECONDS="1",
                   EDGECOACH_SOURCES__BLE_ENABLED="false",
                   EDGECOACH_SOURCES__BLUEZ_ENABLED="false",
                   EDGECOACH_SOURCES__BUTTONS_ENABLED="false",
                   EDGECOACH_AUDIO__OUTPUT="none")
        self.data_dir = data_dir
        self.log = data_dir.parent / "daemon.log"
        data_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "edgecoach", "run"], env=env,
            stdout=self.log.open("w"), stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{port}"
        self.client = httpx.Client(base_url=self.base, timeout=10)

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            token_file = self.data_dir / "api-token"
            if token_file.exists():
                self.client.headers["Authorization"] = f"Bearer {token_file.read_text().strip()}"
                try:
                    if self.client.get("/v1/status").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
            time.sleep(0.2)
        raise AssertionError("daemon did not start:\n" + self.log.read_text())

    def responses(self) -> list[dict]:
        reply = self.client.get("/v1/responses", params={"userId": USER, "limit": 100})
        assert reply.status_code == 200, reply.text
        return reply.json()

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


@pytest.fixture
def upstream() -> Iterator[LocalConvex]:
    with LocalConvex(token=TOKEN) as server:
        yield server


@pytest.fixture
def daemon(tmp_path: Path, upstream: LocalConvex) -> Iterator[RunningDaemon]:
    running = RunningDaemon(tmp_path / "data", unused_port(), upstream.url)
    yield running
    if running.process.poll() is None:
        running.process.kill()
        running.process.wait()


def wait_until(condition, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_events_are_coached_stored_synced_and_survive_sigterm(
        daemon: RunningDaemon, upstream: LocalConvex) -> None:
    upstream.inject(Fault(FaultKind.HTTP_500), Fault(FaultKind.RATE_LIMITED, retry_after="1"))
    daemon.wait_ready()
    assert daemon.client.get("/v1/status", headers={"Authorization": "Bearer wrong"}
                             ).status_code == 401
    for event in SET_EVENTS:
        reply = daemon.client.post("/v1/events", json={**event, "userId": USER})
        assert reply.status_code == 202, reply.text
    # Onboarding (first run) and workout-end speak without earbuds; pre-start comes
    # within the talk budget's gap after onboarding, and set lines need earbuds, which
    # this machine has not: they are held back, each with its reason.
    assert wait_until(lambda: len(daemon.responses()) >= 2), daemon.log.read_text()
    spoken = daemon.responses()
    feedback = daemon.client.post(f"/v1/responses/{spoken[0]['id']}/feedback",
                                  json={"rating": 5, "helpful": True,
                                        "comments": "mail me at a@b.com"})
    assert feedback.status_code in (200, 201), feedback.text
    # 2 responses + the feedback reach upstream, once each in effect; the training
    # record stays home (allowAITraining is off by default).
    assert wait_until(lambda: len(upstream.items) >= 3), daemon.log.read_text()
    # The talk-less/more dial is the persisted talk budget, not a number in memory.
    less = daemon.client.post(f"/v1/users/{USER}/talk", json={"direction": "less"})
    assert less.json() == {"userId": USER, "direction": "less", "chattiness": "quiet"}
    more = daemon.client.post(f"/v1/users/{USER}/talk", json={"direction": "more"})
    assert more.json()["chattiness"] == "normal"
    # The workout became a record of its own (pre-start to workout-end), with its report.
    assert wait_until(lambda: [w["end"] is not None for w in daemon.client.get(
        "/v1/workouts", params={"userId": USER}).json()] == [True]), daemon.log.read_text()
    workout = daemon.client.get("/v1/workouts", params={"userId": USER}).json()[0]
    assert (workout["source"], workout["summary"]["linesSpoken"]) == ("live", 1)
    report = daemon.client.get(f"/v1/workouts/{workout['id']}/report")
    assert report.status_code == 200 and report.text.count("<audio ") == 1
    assert daemon.terminate() == 0, daemon.log.read_text()
    database = sqlite3.connect(daemon.data_dir / "edgecoach.db")
    assert database.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    statuses = dict(database.execute("select triggerId, status from events").fetchall())
    assert statuses == {"onboarding": "spoken", "pre-start": "suppressed",
                        "set-start": "suppressed", "set-end": "suppressed",
                        "workout-end": "spoken"}
    assert database.execute("select count(*) from events where status = 'suppressed' "
                            "and reason is null").fetchone() == (0,)
    assert database.execute("select count(*) from voice_responses").fetchone()[0] == len(spoken)
    assert database.execute("select chattiness from coaching_state where userId = ?",
                            [USER]).fetchone() == ("normal",)
    assert len({item["id"] for item in upstream.items.values()}) == len(upstream.items)
    assert "training_data" not in {item["kind"] for item in upstream.items.values()}
    sent = json.dumps(list(upstream.items.values()))
    assert "a@b.com" not in sent and "[EMAIL]" in sent
    assert TOKEN not in daemon.log.read_text()
