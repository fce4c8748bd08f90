"""The daemon cannot fail silently: its tasks are supervised, READY waits for the API,
the watchdog is fed only while the consumer lives, one daemon owns a data dir.

In-process runs use the real parts (model, voice, SQLite file) with a null audio sink
and the real API on a free port; the CLI runs are subprocesses, as systemd starts them.
"""

import asyncio
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from edgecoach.api import ApiServer
from edgecoach.audio import NullSink, Player
from edgecoach.contract import Subscription, WorkoutEvent
from edgecoach.daemon import Daemon, build_parts
from edgecoach.daemon_lock import DataDirLock
from edgecoach.errors import Busy, ConfigError, DaemonFailed
from edgecoach.resilience import Backoff
from edgecoach.settings import ApiSettings, Settings, load_settings
from edgecoach.store.retention import USER_TABLES
from edgecoach.supervisor import Supervisor
from edgecoach.systemd_notify import ServiceNotifier

USER = "athlete"


# --- the supervisor alone, in fake time ------------------------------------------------

async def test_a_failing_task_is_logged_and_restarted_with_backoff(
        caplog: pytest.LogCaptureFixture) -> None:
    stop = asyncio.Event()
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    supervisor = Supervisor(stop, sleep=fake_sleep)
    runs = 0

    async def flaky() -> None:
        nonlocal runs
        runs += 1
        if runs < 3:
            raise RuntimeError(f"boom {runs}")

    with caplog.at_level(logging.INFO, logger="edgecoach.supervisor"):
        await supervisor.restartable("strap", flaky)
    assert runs == 3 and supervisor.failure is None and not stop.is_set()
    backoff = Backoff()
    assert [backoff.bounds(0)[0] <= slept[0] <= backoff.bounds(0)[1],
            backoff.bounds(1)[0] <= slept[1] <= backoff.bounds(1)[1]] == [True, True]
    failures = [r for r in caplog.records if r.message == "strap failed; restarting it"]
    assert len(failures) == 2 and all(r.exc_info for r in failures)  # with the traceback


async def test_an_essential_task_that_ends_stops_the_daemon(
        caplog: pytest.LogCaptureFixture) -> None:
    stop = asyncio.Event()
    supervisor = Supervisor(stop)

    async def consumer() -> None:
        raise KeyError("lost")

    supervisor.essential("event consumer", consumer())
    await asyncio.wait_for(stop.wait(), 5)
    assert supervisor.failure == "event consumer failed: KeyError: 'lost'"
    assert any(r.exc_info for r in caplog.records if "event consumer" in r.message)


async def test_essential_tasks_cancelled_by_a_stop_are_no_failure() -> None:
    stop = asyncio.Event()
    supervisor = Supervisor(stop)
    supervisor.essential("API server", asyncio.Event().wait())
    stop.set()
    await supervisor.cancel()
    assert supervisor.failure is None


async def test_the_watchdog_is_fed_only_while_the_consumer_lives(tmp_path: Path) -> None:
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as systemd:
        systemd.bind(str(path))
        systemd.setblocking(False)
        notifier = ServiceNotifier({"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "20000"})
        alive = True
        pinger = asyncio.create_task(notifier.watchdog(alive=lambda: alive))
        await asyncio.sleep(0.1)
        pings_alive = drain(systemd)
        alive = False
        await asyncio.sleep(0.03)
        drain(systemd)
        await asyncio.sleep(0.1)
        pings_dead = drain(systemd)
        pinger.cancel()
    assert pings_alive.count(b"WATCHDOG=1") >= 3 and pings_dead == []


def drain(sock: socket.socket) -> list[bytes]:
    received = []
    while True:
        try:
            received.append(sock.recv(64))
        except BlockingIOError:
            return received


# --- the daemon in-process ----------------------------------------------------------------

@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data", api=ApiSettings(port=0))


@pytest.fixture
def notify_socket(tmp_path: Path):
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as systemd:
        systemd.bind(str(tmp_path / "notify"))
        systemd.setblocking(False)
        yield systemd


def make_daemon(settings: Settings, notify_path: Path | None = None, **kwargs) -> Daemon:
    parts = build_parts(settings, player=Player(NullSink()))
    parts.store.subscriptions.put(Subscription(user_id=USER))  # no onboarding to speak
    environ = {"NOTIFY_SOCKET": str(notify_path)} if notify_path else {}
    return Daemon(settings, parts, notifier=ServiceNotifier(environ), **kwargs)


class Started:
    def __init__(self, daemon: Daemon, task: asyncio.Task) -> None:
        self.daemon = daemon
        self.task = task

    def client(self) -> httpx.AsyncClient:
        assert self.daemon.api is not None
        token = self.daemon.settings.token_path.read_text().strip()
        return httpx.AsyncClient(base_url=self.daemon.api.address, timeout=10,
                                 headers={"Authorization": f"Bearer {token}"})

    async def stop(self) -> None:
        self.daemon.stop.set()
        await asyncio.wait_for(self.task, 30)


async def start(daemon: Daemon) -> Started:
    task = asyncio.create_task(daemon.run())
    await until(lambda: daemon.api is not None or task.done())
    return Started(daemon, task)


async def until(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        await asyncio.sleep(0.02)


async def test_a_taken_port_stops_the_start_before_ready(
        settings: Settings, tmp_path: Path, notify_socket: socket.socket) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = settings.model_copy(update={"api": ApiSettings(port=port)})
        daemon = make_daemon(settings, tmp_path / "notify")
        with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{port}"):
            await asyncio.wait_for(daemon.run(), 30)
    assert drain(notify_socket) == []  # READY never sent
    daemon.parts.store.close()


async def test_ready_after_the_api_is_bound_a_bug_fails_one_event_and_a_dead_api_stops_it(
        settings: Settings, tmp_path: Path, notify_socket: socket.socket,
        caplog: pytest.LogCaptureFixture) -> None:
    daemon = make_daemon(settings, tmp_path / "notify")
    started = await start(daemon)
    sent: list[bytes] = []
    await until(lambda: sent.extend(drain(notify_socket)) or any(
        m.startswith(b"READY=1") for m in sent) or started.task.done())
    async with started.client() as client:  # bound before READY: answers at once
        assert (await client.get("/v1/status")).status_code == 200
        # An event id is never replaced: the same event again is 202, another is 409.
        event = {"id": "dup", "triggerId": "workout-end", "userId": USER}
        assert (await client.post("/v1/events", json=event)).status_code == 202
        assert (await client.post("/v1/events", json=event)).status_code == 202
        other = await client.post("/v1/events", json={**event, "userId": "someone-else",
                                                       "triggerId": "pre-start"})
        assert other.status_code == 409 and "dup" in other.json()["detail"]
    with daemon.parts.store.database.reading() as db:
        assert db.execute("select userId, triggerId from events where id = 'dup'"
                          ).fetchall() == [(USER, "workout-end")]

    # A bug on one event: logged with its traceback, that event failed, the next coached.
    handle = daemon.pipeline.handle

    async def buggy(event: WorkoutEvent, *args: object):
        if event.id == "poison":
            raise TypeError("a bug")
        return await handle(event, *args)

    daemon.pipeline.handle = buggy  # type: ignore[method-assign]
    await daemon.submit(WorkoutEvent(id="poison", trigger_id="workout-end", user_id=USER))
    await daemon.submit(WorkoutEvent(id="next", trigger_id="workout-end", user_id=USER))
    await until(lambda: daemon.queue.empty() and daemon._item_started == 0.0)
    with daemon.parts.store.database.reading() as db:
        statuses = dict(db.execute("select id, status || ':' || coalesce(reason, '') "
                                   "from events where id in ('poison', 'next')").fetchall())
    assert statuses["poison"] == "failed:internal error: TypeError: a bug"
    assert statuses["next"] == "spoken:"
    assert any(r.exc_info for r in caplog.records if "internal error" in r.message)
    assert not started.task.done()

    # The API server ending by itself (uvicorn returning, as after an internal error):
    # the daemon stops with a failure, for systemd to restart it.
    api = daemon.api
    assert isinstance(api, ApiServer) and api._server is not None
    api._server.should_exit = True
    with pytest.raises(DaemonFailed, match="API server ended"):
        await asyncio.wait_for(started.task, 30)


async def test_a_crashing_source_is_restarted_and_coaching_goes_on(
        settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    calls = 0

    async def source(queue: asyncio.Queue) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("adapter vanished")
        await queue.put(WorkoutEvent(trigger_id="workout-end", user_id=USER))
        await asyncio.Event().wait()

    daemon = make_daemon(settings, sources=[source])
    started = await start(daemon)
    await until(lambda: daemon.parts.store.responses.event_counts(USER).get("spoken", 0) >= 1,
                timeout=30)  # the restarted source's workout-end
    assert calls == 2 and not started.task.done()
    assert any(r.exc_info and "source 1" in r.message for r in caplog.records)
    await started.stop()


async def test_a_queue_that_fills_while_an_event_is_stored_answers_busy(
        settings: Settings) -> None:
    daemon = make_daemon(settings)
    daemon.queue = asyncio.Queue(1)  # not running: nothing drains it
    first = WorkoutEvent(trigger_id="workout-end", user_id=USER)
    second = WorkoutEvent(trigger_id="workout-end", user_id=USER)
    results = await asyncio.gather(daemon.submit(first), daemon.submit(second),
                                   return_exceptions=True)
    assert results[0] is None and isinstance(results[1], Busy)
    with daemon.parts.store.database.reading() as db:
        ids = {row[0] for row in db.execute("select id from events")}
    daemon.parts.store.close()
    assert first.id in ids and second.id not in ids  # refused: not kept to be resumed


async def test_an_erasure_wins_over_the_events_queued_for_the_user(
        settings: Settings) -> None:
    daemon = make_daemon(settings)
    store = daemon.parts.store
    store.subscriptions.put(Subscription(user_id="leaver", subscription_type="trainer"))
    daemon.parts.devices.has_earbuds = True
    for number in range(12):
        await daemon.submit(WorkoutEvent(trigger_id="set-end", user_id="leaver",
                                         context={"exercise": "squat", "reps": 5,
                                                  "setNumber": number + 1}))
    store.retention.delete_user("leaver")  # before the daemon takes any of them
    started = await start(daemon)
    async with started.client() as client:
        refused = await client.post("/v1/events", json={"triggerId": "set-end",
                                                        "userId": "leaver"})
    assert refused.status_code == 409 and "erased" in refused.json()["detail"]
    await started.stop()
    reopened = type(store).open(settings.database_path)
    with reopened.database.reading() as db:
        left = {table: db.execute(f"select count(*) from {table} where userId = 'leaver'"
                                  ).fetchone()[0] for table in [*USER_TABLES, "subscriptions"]}
    reopened.close()
    assert set(left.values()) == {0}, {table: n for table, n in left.items() if n}


async def test_an_erasure_through_the_api_drops_what_the_daemon_prepared_for_the_user(
        settings: Settings) -> None:
    daemon = make_daemon(settings)
    daemon.parts.store.subscriptions.put(Subscription(user_id="leaver",
                                                      subscription_type="trainer"))
    pipeline = daemon.pipeline
    # stand-ins for a line prepared ahead and one waiting for its voice
    pipeline._prepared[("leaver", "set-end", 2)] = object()  # type: ignore[assignment]
    pipeline._prepared[("stayer", "set-end", 2)] = object()  # type: ignore[assignment]
    pipeline._unvoiced.append(("leaver", "alice", "Good set."))
    started = await start(daemon)
    async with started.client() as client:
        erased = await client.delete("/v1/users/leaver")
    await started.stop()
    assert erased.status_code == 200
    assert [key[0] for key in pipeline._prepared] == ["stayer"]
    assert not [entry for entry in pipeline._unvoiced if entry[0] == "leaver"]


# --- the CLI, as systemd starts it ----------------------------------------------------------

def run_cli(data_dir: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = dict(os.environ, EDGECOACH_DATA_DIR=str(data_dir),
               EDGECOACH_SOURCES__BLE_ENABLED="false", EDGECOACH_SOURCES__BLUEZ_ENABLED="false",
               EDGECOACH_SOURCES__BUTTONS_ENABLED="false", EDGECOACH_AUDIO__OUTPUT="none",
               EDGECOACH_API__PORT="0")
    return subprocess.run([sys.executable, "-m", "edgecoach", *args], env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_a_second_daemon_on_the_data_dir_exits_2_naming_the_first(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    lock = DataDirLock(data_dir).acquire()  # this test process plays the first daemon
    try:
        done = run_cli(data_dir, "run")
    finally:
        lock.release()
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"edgecoach: error: another edgecoach daemon (pid {os.getpid()}) is running on "
        f"{data_dir}; stop it first"]
    assert sorted(p.name for p in data_dir.iterdir()) == ["daemon.lock"]  # nothing else made


def test_a_corrupt_database_stops_the_start_and_is_kept(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "edgecoach.db").write_bytes(b"\x00garbage" * 1000)
    done = run_cli(data_dir, "run")
    assert done.returncode == 2
    [line] = [line for line in done.stderr.splitlines() if line.startswith("edgecoach:")]
    assert "database is corrupt" in line and "moved aside" in line
    [aside] = [p for p in data_dir.iterdir() if ".corrupt-" in p.name]
    assert aside.read_bytes() == b"\x00garbage" * 1000
    assert not (data_dir / "edgecoach.db").exists()
