"""The running daemon (a subprocess, as a user starts it) learns a tier change and a
deletion request from the cloud within a sync round (sync_interval_seconds = 1)."""

import time

from tests.convex_server import LocalConvex
from tests.test_daemon import USER, RunningDaemon, daemon, upstream, wait_until  # noqa: F401


def test_the_cloud_reaches_the_running_daemon(daemon: RunningDaemon,  # noqa: F811
                                              upstream: LocalConvex) -> None:  # noqa: F811
    daemon.wait_ready()
    reply = daemon.client.post("/v1/events", json={"triggerId": "workout-end", "userId": USER,
                                                   "context": {"totalSets": 1}})
    assert reply.status_code == 202, reply.text
    assert wait_until(lambda: len(daemon.responses()) >= 1), daemon.log.read_text()

    def subscription() -> dict:
        return daemon.client.get(f"/v1/users/{USER}/subscription").json()

    upstream.cloud.update_subscription(USER, subscriptionType="trainer",
                                       preferredPersona="aiden")
    changed = time.monotonic()
    assert wait_until(lambda: subscription()["subscriptionType"] == "trainer", 10), \
        daemon.log.read_text()
    assert subscription()["preferredPersona"] == "aiden"
    tier_seconds = time.monotonic() - changed

    upstream.cloud.request_deletion(USER)
    asked = time.monotonic()
    assert wait_until(lambda: upstream.cloud.acknowledged == [USER], 10), daemon.log.read_text()
    deletion_seconds = time.monotonic() - asked
    assert daemon.responses() == []
    assert daemon.terminate() == 0, daemon.log.read_text()
    print(f"tier change applied after {tier_seconds:.1f} s, "
          f"deletion after {deletion_seconds:.1f} s (sync interval 1 s)")
