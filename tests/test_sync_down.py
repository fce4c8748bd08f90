"""Sync down: the cloud's subscription, privacy settings and deletion requests reach the
device in one round (a real LocalConvex, a real SQLite file, the real client)."""

import json
import logging

from edgecoach.cli import main
from edgecoach.contract import Subscription
from edgecoach.settings import load_settings
from edgecoach.store import Store
from edgecoach.store.sync_state import SyncState
from edgecoach.sync import UpstreamSync
from edgecoach.sync.device_state import DeviceStateReply
from tests.conftest import FakeClock
from tests.convex_server import unused_port
from tests.test_sync import USER, add_responses, make_sync, outbox_rows


def rows_of(store: Store, user_id: str) -> dict[str, int]:
    with store.database.reading() as db:
        tables = ["voice_responses", "events", "training_data", "outbox", "subscriptions",
                  "coaching_state", "speculative_clips"]
        counts = {table: db.execute(f"select count(*) from {table} where userId = ?",
                                    [user_id]).fetchone()[0] for table in tables}
    return {table: count for table, count in counts.items() if count}


def syncing(store: Store, url: str, clock: FakeClock, **options) -> UpstreamSync:
    sync = make_sync(store, url, clock)
    sync.users = (USER,)
    sync.on_user_deleted = options.get("on_user_deleted")
    return sync


async def test_a_tier_change_reaches_the_device_in_one_round(store, clock, convex_server):
    store.subscriptions.put(Subscription(user_id=USER))
    free_left = store.limits.remaining(USER, "free", 100)
    convex_server.cloud.update_subscription(USER, subscriptionType="pro")
    async with syncing(store, convex_server.url, clock) as sync:
        report = await sync.sync_round()
    assert store.subscriptions.get(USER).subscription_type == "pro"
    assert report.down is not None and report.down.applied[0].tier == "pro"
    assert store.limits.remaining(USER, "pro", 100) != free_left
    # The next round has nothing new: the cursor moved on.
    async with syncing(store, convex_server.url, clock) as sync:
        again = await sync.sync_round()
    assert again.down is not None and again.down.applied[0].subscription is False
    assert SyncState(store.database).cursor(USER) == \
        convex_server.cloud.subscriptions[USER]["updatedAt"]


async def test_a_deletion_request_erases_the_user_and_is_acknowledged(
        store, clock, convex_server):
    add_responses(store, 3)
    add_responses(store, 1, user="someone-else")
    convex_server.cloud.request_deletion(USER, days=7)
    forgotten: list[str] = []
    async with syncing(store, convex_server.url, clock,
                       on_user_deleted=forgotten.append) as sync:
        report = await sync.sync_round()
    assert report.down is not None and report.down.applied[0].deleted
    assert rows_of(store, USER) == {}
    assert rows_of(store, "someone-else") == {"voice_responses": 1, "outbox": 1,
                                              "subscriptions": 1}
    assert forgotten == [USER]
    assert convex_server.cloud.acknowledged == [USER]
    # None of the erased user's items left the device; the other user's did.
    assert [item["userId"] for item in convex_server.items.values()] == ["someone-else"]


async def test_cloud_privacy_is_in_force_before_the_next_send(store, clock, convex_server):
    add_responses(store, 2)
    convex_server.cloud.update_subscription(
        USER, privacySettings={"allowDataCollection": False})
    async with syncing(store, convex_server.url, clock) as sync:
        report = await sync.sync_round()
    assert report.dropped == 2 and report.sent == 0
    assert convex_server.items == {}
    assert not store.subscriptions.get(USER).privacy_settings.allow_data_collection


async def test_the_tier_is_the_clouds_but_a_newer_local_preference_stays(
        store, clock, convex_server):
    convex_server.cloud.clock = clock
    convex_server.cloud.update_subscription(USER, preferredPersona="aiden")
    clock.advance(60)  # the athlete picks alice on the device, offline, a minute later
    store.subscriptions.put(Subscription(user_id=USER, preferred_persona="alice",
                                         subscription_type="trainer"))
    clock.advance(60)
    convex_server.cloud.update_subscription(USER, subscriptionType="pro")
    # The cloud's row is newer now as a whole: both its tier and its persona apply.
    async with syncing(store, convex_server.url, clock) as sync:
        await sync.sync_round()
    local = store.subscriptions.get(USER)
    assert (local.subscription_type, local.preferred_persona) == ("pro", "aiden")

    clock.advance(60)
    store.subscriptions.put(local.model_copy(update={"preferred_persona": "alice"}))
    clock.advance(60)
    convex_server.cloud.subscriptions[USER]["subscriptionType"] = "trainer"
    convex_server.cloud.subscriptions[USER]["updatedAt"] = clock() - 90  # older than local
    async with syncing(store, convex_server.url, clock) as sync:
        await sync.sync_round()
    local = store.subscriptions.get(USER)
    assert (local.subscription_type, local.preferred_persona) == ("trainer", "alice")


async def test_an_invalid_reply_is_logged_once_and_nothing_applied(
        store, clock, convex_server, caplog):
    store.subscriptions.put(Subscription(user_id=USER))
    row = convex_server.cloud.update_subscription(USER, subscriptionType="pro")
    row["privacySettings"]["dataRetentionDays"] = 0  # what a buggy deployment might send
    add_responses(store, 1)
    caplog.set_level(logging.WARNING, "edgecoach.sync")
    async with syncing(store, convex_server.url, clock) as sync:
        for _ in range(2):
            report = await sync.sync_round()
            assert report.down is not None and report.down.invalid == 1
    assert len(convex_server.items) == 1  # the way up is not held back
    assert store.subscriptions.get(USER).subscription_type == "free"
    warnings = [r.message for r in caplog.records if "invalid reply" in r.message]
    assert len(warnings) == 1
    assert "privacySettings.dataRetentionDays" in warnings[0]
    assert "dataRetentionDays" in (SyncState(store.database).last_down()["error"] or "")
    assert SyncState(store.database).cursor(USER) is None


async def test_a_user_the_token_does_not_cover_is_skipped_not_fatal(
        store, clock, convex_server, caplog):
    convex_server.cloud.device_users = {"someone-else"}
    add_responses(store, 1, user="someone-else")
    caplog.set_level(logging.WARNING, "edgecoach.sync")
    async with syncing(store, convex_server.url, clock) as sync:
        report = await sync.sync_round()
    assert report.down is not None and report.down.refused == 1
    assert report.sent == 1
    assert [request.status for request in convex_server.requests][:2] == [403, 200]


async def test_offline_costs_no_write_and_the_round_waits(store, clock):
    add_responses(store, 1)
    before = outbox_rows(store)
    async with syncing(store, f"http://127.0.0.1:{unused_port()}", clock) as sync:
        report = await sync.sync_round()
    assert report.offline and report.retry_in is not None and report.sent == 0
    assert outbox_rows(store) == before
    assert SyncState(store.database).last_down() == {"at": None, "error": None}


def test_the_reply_model_refuses_what_the_cloud_must_not_send():
    base = {"protocol": 1, "userId": "u", "cursor": 1.0, "subscription": None, "deletion": None}
    assert DeviceStateReply.model_validate(base).cursor == 1.0
    for bad in ({"protocol": 2}, {"cursor": -1}, {"cursor": float("inf")},
                {"subscription": {"userId": "u"}}, {"extra": 1}):
        try:
            DeviceStateReply.model_validate({**base, **bad})
        except ValueError:
            continue
        raise AssertionError(f"accepted {bad}")


async def test_status_shows_the_last_sync_both_ways(isolated_data_dir, clock, convex_server,
                                                    capsys):
    config = load_settings()
    store = Store.open(config.database_path, clock=clock)
    add_responses(store, 1, user=config.user_id)
    convex_server.cloud.update_subscription(config.user_id, subscriptionType="trainer")
    sync = make_sync(store, convex_server.url, clock)
    sync.users = (config.user_id,)
    async with sync:
        await sync.sync_round()
    store.close()
    assert main(["status"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["subscriptionType"] == "trainer"
    assert status["lastSync"] == {"up": clock(), "down": {"at": clock(), "error": None}}


async def test_a_setting_changed_here_offline_goes_up_and_the_newer_wins(
        store, clock, convex_server):
    convex_server.cloud.clock = clock
    convex_server.cloud.update_subscription(USER, subscriptionType="pro",
                                            preferredPersona="alice")
    async with syncing(store, convex_server.url, clock) as sync:
        await sync.sync_round()
    clock.advance(60)  # offline, the athlete picks aiden through the app
    store.subscriptions.patch(USER, {"preferredPersona": "aiden",
                                     "subscriptionType": "trainer"})
    async with syncing(store, convex_server.url, clock) as sync:
        await sync.sync_round()  # its item goes up: the cloud takes the persona, not the tier
        cloud = convex_server.cloud.subscriptions[USER]
        assert (cloud["subscriptionType"], cloud["preferredPersona"]) == ("pro", "aiden")
        await sync.sync_round()  # and the cloud's tier comes back down
    local = store.subscriptions.get(USER)
    assert (local.subscription_type, local.preferred_persona) == ("pro", "aiden")
