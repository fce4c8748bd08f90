"""Upstream sync against a real local HTTP server and a real SQLite file."""

import asyncio
import email.utils
import logging

import pytest

from edgecoach.contract import Feedback, PrivacySettings, Subscription, VoiceResponse
from edgecoach.resilience import Backoff
from edgecoach.settings import UpstreamSettings
from edgecoach.store import Store
from edgecoach.sync import SyncReport, UpstreamSync
from tests.conftest import FakeClock
from tests.convex_server import TOKEN, Fault, FaultKind, LocalConvex, unused_port

USER = "athlete-1"


def add_responses(store: Store, count: int, user: str = USER) -> list[str]:
    ids = []
    for number in range(count):
        response = VoiceResponse(user_id=user, trigger_id="set-end", persona_id="aiden",
                                 text_content=f"Set {number + 1} done. Rest up.",
                                 workout_context={"reps": 8, "heartRate": 150})
        store.responses.add(response)
        ids.append(response.id)
    return ids


def outbox_rows(store: Store) -> list[dict]:
    with store.database.reading() as db:
        return list(db.query("select * from outbox order by createdAt"))


class FakeSleep:
    """Records each delay and moves the fake clock instead of waiting."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.clock.advance(seconds)
        await asyncio.sleep(0)


def make_sync(store: Store, url: str, clock: FakeClock, sleep=None, **settings) -> UpstreamSync:
    return UpstreamSync(store, UpstreamSettings(url=url, token=TOKEN, **settings),
                        clock=clock, sleep=sleep or FakeSleep(clock))


async def test_happy_path_delivers_every_item_once(store, clock, convex_server):
    store.subscriptions.put(Subscription(
        user_id=USER, privacy_settings=PrivacySettings(allow_ai_training=True)))
    ids = add_responses(store, 7)
    store.responses.set_feedback(ids[0], Feedback(rating=5, helpful=True))
    async with make_sync(store, convex_server.url, clock, batch_size=4) as sync:
        report = await sync.sync_once()

    assert report == SyncReport(sent=9, batches=3)
    assert set(convex_server.items) == {row["id"] for row in outbox_rows(store)}
    assert convex_server.duplicates == 0
    assert store.outbox.pending_count() == 0
    kinds = sorted(item["kind"] for item in convex_server.items.values())
    assert kinds == ["feedback", "training_data"] + ["voice_response"] * 7
    assert all(request.authorization_ok for request in convex_server.requests)


FAULTS = [
    Fault(FaultKind.HTTP_500), Fault(FaultKind.HTTP_502), Fault(FaultKind.RATE_LIMITED),
    Fault(FaultKind.HANG, hang_seconds=5), Fault(FaultKind.RESET),
    Fault(FaultKind.MALFORMED), Fault(FaultKind.ERROR_STATUS),
]


@pytest.mark.parametrize("after_store", [False, True], ids=["lost-request", "lost-reply"])
@pytest.mark.parametrize("fault", FAULTS, ids=[fault.kind.value for fault in FAULTS])
async def test_each_fault_recovers_and_delivers_once_in_effect(
        store, clock, convex_server, fault, after_store):
    add_responses(store, 5)
    fault = Fault(fault.kind, fault.retry_after, after_store, fault.hang_seconds)
    convex_server.inject(fault)
    # Short only where the server hangs: a loaded CI machine may take longer to answer.
    timeout = 0.3 if fault.kind is FaultKind.HANG else 5.0
    async with make_sync(store, convex_server.url, clock, timeout_seconds=timeout) as sync:
        first = await sync.sync_once()
        assert first.sent == 0 and first.failed == 5 and first.retry_in is not None
        assert not first.offline
        failed = outbox_rows(store)
        assert all(row["attempts"] == 1 and row["lastError"] for row in failed)
        assert all(row["nextAttemptAt"] == clock() + first.retry_in for row in failed)

        assert (await sync.sync_once()).sent == 0, "nothing is due before the backoff ends"
        clock.advance(first.retry_in)
        second = await sync.sync_once()

    assert second.sent == 5 and second.retry_in is None
    assert set(convex_server.items) == {row["id"] for row in outbox_rows(store)}
    assert store.outbox.pending_count() == 0
    # A lost reply makes the retry a duplicate, harmless because it carries the same UUIDs.
    assert convex_server.duplicates == (5 if after_store else 0)
    assert max(convex_server.deliveries.values()) == (2 if after_store else 1)


async def test_retry_pacing_stays_within_the_backoff_bounds(store, clock, convex_server):
    add_responses(store, 3)
    convex_server.inject(*[Fault(FaultKind.HTTP_500)] * 6)
    sleep = FakeSleep(clock)
    stop = asyncio.Event()
    sync = make_sync(store, convex_server.url, clock, sleep, sync_interval_seconds=60)

    async def stop_when_delivered(seconds: float) -> None:
        await sleep(seconds)
        if store.outbox.pending_count() == 0:
            stop.set()

    sync._sleep = stop_when_delivered
    async with sync:
        await asyncio.wait_for(sync.run(stop), timeout=10)

    retries, after = sleep.delays[:6], sleep.delays[6:]
    bounds = Backoff()
    for attempt, delay in enumerate(retries):
        low, high = bounds.bounds(attempt)
        assert low <= delay <= high, (attempt, delay)
    assert after == [60], "after the success the loop waits for the sync interval"
    # Six failed rounds (each stops at its first request), then the device state and the batch.
    assert len(convex_server.requests) == 8
    assert len(convex_server.items) == 3 and convex_server.duplicates == 0


async def test_429_retry_after_seconds_is_honoured(store, clock, convex_server):
    add_responses(store, 2)
    convex_server.inject(Fault(FaultKind.RATE_LIMITED, retry_after="120"))
    async with make_sync(store, convex_server.url, clock) as sync:
        report = await sync.sync_once()
        assert report.retry_in == 120
        assert {row["nextAttemptAt"] for row in outbox_rows(store)} == {clock() + 120}
        clock.advance(119)
        assert (await sync.sync_once()).batches == 0
        clock.advance(1)
        assert (await sync.sync_once()).sent == 2


async def test_429_retry_after_http_date_is_honoured(store, clock, convex_server):
    add_responses(store, 1)
    when = email.utils.formatdate(clock() + 90, usegmt=True)
    convex_server.inject(Fault(FaultKind.RATE_LIMITED, retry_after=when))
    async with make_sync(store, convex_server.url, clock) as sync:
        report = await sync.sync_once()
    assert report.retry_in == pytest.approx(90, abs=1)


async def test_offline_costs_nothing_and_recovers_at_once(store, clock, caplog):
    caplog.set_level(logging.DEBUG)
    add_responses(store, 4)
    port = unused_port()
    server = LocalConvex(token=TOKEN, port=port)
    sleep = FakeSleep(clock)
    stop = asyncio.Event()
    offline_until = clock() + 3600

    async def network_returns_after_an_hour(seconds: float) -> None:
        await sleep(seconds)
        if clock() >= offline_until and server.port == port and not server.items:
            await asyncio.to_thread(server.start)
        if len(server.items) == 4:
            stop.set()

    sync = make_sync(store, f"http://127.0.0.1:{port}", clock, network_returns_after_an_hour,
                     sync_interval_seconds=600)
    try:
        async with sync:
            await asyncio.wait_for(sync.run(stop), timeout=20)
    finally:
        server.stop()

    offline_tries = sleep.delays[:-1]
    # Exponential backoff over an hour: ~1+2+4+...+256 s, then 150-300 s steps: ~23 tries,
    # where a busy loop would make thousands.
    assert len(offline_tries) <= 30
    for attempt, delay in enumerate(offline_tries):
        assert delay >= Backoff().bounds(attempt)[0]
    assert sum(sleep.delays[:-1]) >= 3600
    assert sleep.delays[-1] == 600, "once back, everything went in the first try"
    # Back: the round reads the device state, then one batch carries everything.
    assert [request.path for request in server.requests] == [
        "edgecoach:deviceState", "edgecoach:ingestBatch"]
    assert len(server.items) == 4
    assert all(row["attempts"] == 0 and row["lastError"] is None
               for row in outbox_rows(store)), "offline tries write nothing"
    warnings = [record for record in caplog.records
                if record.levelno == logging.WARNING and "offline" in record.message]
    assert len(warnings) == 1, "one log line per offline period"
    assert any("reachable again" in record.message for record in caplog.records)


async def test_dns_failure_is_offline(store, clock):
    add_responses(store, 1)
    async with make_sync(store, "http://edgecoach-upstream.invalid", clock,
                         timeout_seconds=2) as sync:
        report = await sync.sync_once()
    assert report.offline and report.sent == 0 and report.retry_in is not None


async def test_nudge_syncs_before_the_interval(store, clock, convex_server):
    forever = asyncio.Event()

    async def never_wakes(seconds: float) -> None:
        await forever.wait()

    stop = asyncio.Event()
    sync = make_sync(store, convex_server.url, clock, never_wakes)
    async with sync:
        task = asyncio.create_task(sync.run(stop))
        await asyncio.sleep(0.05)
        add_responses(store, 2)
        sync.nudge()
        assert await asyncio.to_thread(convex_server.wait_for_items, 2, 5.0)
        stop.set()
        await asyncio.wait_for(task, timeout=5)
    assert store.outbox.pending_count() == 0


async def test_an_item_refused_alone_waits_and_the_rest_goes(store, clock, convex_server):
    ids = [row["id"] for row in (add_responses(store, 3) and outbox_rows(store))]
    convex_server.reject_ids.add(ids[1])
    async with make_sync(store, convex_server.url, clock) as sync:
        report = await sync.sync_once()
    assert report.sent == 2 and report.rejected == 1 and report.retry_in is None
    refused = next(row for row in outbox_rows(store) if row["id"] == ids[1])
    assert refused["sentAt"] is None and refused["attempts"] == 1
    assert refused["lastError"].startswith("rejected:") and refused["nextAttemptAt"] > clock()


async def test_a_rejected_batch_halves_the_batch_size(store, clock, convex_server):
    add_responses(store, 8)
    convex_server.inject(Fault(FaultKind.ERROR_STATUS), Fault(FaultKind.ERROR_STATUS))
    async with make_sync(store, convex_server.url, clock, batch_size=8) as sync:
        for _ in range(3):
            report = await sync.sync_once()
            clock.advance(report.retry_in or 0)
    sizes = [len(request.item_ids) for request in convex_server.requests]
    assert sizes[:3] == [8, 4, 2]
    assert len(convex_server.items) == 8


async def test_wrong_token_is_refused_and_nothing_is_marked_sent(store, clock):
    add_responses(store, 1)
    with LocalConvex(token="another-token") as server:
        async with make_sync(store, server.url, clock) as sync:
            report = await sync.sync_once()
    assert "401" in report.error and "upstream.token" in report.error
    assert store.outbox.pending_count() == 1 and not server.items


async def test_no_url_disables_sync_and_says_so_once(store, clock, caplog):
    caplog.set_level(logging.INFO)
    add_responses(store, 1)
    sync = UpstreamSync(store, UpstreamSettings(), clock=clock)
    assert not sync.enabled
    assert (await sync.sync_once()).disabled
    await asyncio.wait_for(sync.run(asyncio.Event()), timeout=1)
    assert [r.message for r in caplog.records if "disabled" in r.message] == [
        "upstream sync disabled: no upstream.url configured"]
    assert store.outbox.pending_count() == 1


async def test_the_token_never_reaches_the_logs(store, clock, convex_server, caplog):
    caplog.set_level(logging.DEBUG)
    add_responses(store, 3)
    convex_server.inject(
        Fault(FaultKind.ERROR_STATUS, message=f"Uncaught Error: bad token {TOKEN}"),
        Fault(FaultKind.RESET), Fault(FaultKind.HTTP_500), Fault(FaultKind.MALFORMED))
    async with make_sync(store, convex_server.url, clock, timeout_seconds=5.0) as sync:
        for _ in range(5):
            report = await sync.sync_once()
            clock.advance(report.retry_in or 0)
    async with make_sync(store, f"http://127.0.0.1:{unused_port()}", clock) as offline:
        add_responses(store, 1)
        await offline.sync_once()

    assert len(convex_server.items) == 3
    assert caplog.records, "the test must have captured something"
    assert TOKEN not in caplog.text
    assert all(TOKEN not in (row["lastError"] or "") for row in outbox_rows(store))
    assert "bad token [TOKEN]" in caplog.text, "the echoed token was redacted, not lost"
