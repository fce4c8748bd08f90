"""Upstream sync: deliver the outbox to the Convex deployment, in batches, when online.

Pacing, in one place:

- A batch that fails as a whole (offline, HTTP 429/5xx, timeout, reset, malformed reply,
  `{"status": "error"}`) stops the round; the next try waits for the channel's Backoff
  (a 429/503 Retry-After wins when longer). Items of that batch are marked failed with
  that time (`attempts`, `lastError`, `nextAttemptAt`); offline costs nothing: no write,
  no request until the backoff is over, and one log line per offline period.
- The retry after the backoff is the connectivity probe: when it succeeds, the held
  items are due again at once and the round goes on until nothing is due.
- A rejected whole batch halves the batch size (a deployment limit, or one item the
  function throws on, is isolated in a few tries); each success doubles it back.
- An item the deployment refuses by itself (in the reply's `rejected`) waits for its own
  backoff from its own attempt count; it is never dropped by the sync (the retention
  purge removes it with its record).
"""

import asyncio
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from edgecoach.contract.base import describe_validation_error
from edgecoach.errors import (
    UpstreamForbidden,
    UpstreamOffline,
    UpstreamRejected,
    UpstreamUnavailable,
)
from edgecoach.resilience import Backoff, Sleep
from edgecoach.settings import UpstreamSettings
from edgecoach.store import Store
from edgecoach.store.sync_state import SyncState
from edgecoach.sync.convex import ConvexClient
from edgecoach.sync.device_state import Applied, DeviceStateReply, apply_device_state
from edgecoach.sync.payloads import prepare

logger = logging.getLogger(__name__)

INGEST_PATH = "edgecoach:ingestBatch"
DEVICE_STATE_PATH = "edgecoach:deviceState"
ACKNOWLEDGE_PATH = "edgecoach:acknowledgeDeletion"
PROTOCOL_VERSION = 1


@dataclass
class DownReport:
    """What one `sync_down()` did: replies applied, refused (403...), invalid."""

    applied: list[Applied] = field(default_factory=list)
    refused: int = 0
    invalid: int = 0
    retry_in: float | None = None
    offline: bool = False
    error: str | None = None


@dataclass
class SyncReport:
    """What one `sync_once()` (up) or `sync_round()` (down, then up) did."""

    sent: int = 0
    dropped: int = 0
    rejected: int = 0
    batches: int = 0
    failed: int = 0
    retry_in: float | None = None
    offline: bool = False
    disabled: bool = False
    error: str | None = None
    down: DownReport | None = None


@dataclass(frozen=True)
class _Ack:
    accepted: list[str]
    rejected: dict[str, str]


class UpstreamSync:
    """Sends due outbox items to `settings.url`; `run(stop)` keeps doing it.

    `clock`, `sleep` and `rng` are injectable so tests use fake time. Not thread-safe:
    call everything from the event loop that owns it.
    """

    def __init__(self, store: Store, settings: UpstreamSettings,
                 clock: Callable[[], float] = time.time, sleep: Sleep = asyncio.sleep,
                 rng: random.Random | None = None, users: Sequence[str] = (),
                 on_user_deleted: Callable[[str], None] | None = None) -> None:
        self.store = store
        # Synced down besides every user with settings here (the daemon's own user).
        self.users = tuple(users)
        self.on_user_deleted = on_user_deleted
        self._down_logged: set[tuple[str, str]] = set()
        self.settings = settings
        self.clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.backoff = Backoff(rng=self._rng)
        self._batch_size = settings.batch_size
        self._lock = asyncio.Lock()
        self._nudged = asyncio.Event()
        self._outage: str | None = None
        self._outage_since: float | None = None
        self._held: list[str] = []
        self._disabled_logged = False
        self._client: ConvexClient | None = None
        if settings.url:
            token = settings.token.get_secret_value() if settings.token else None
            self._client = ConvexClient(settings.url, token, settings.timeout_seconds, clock)

    @property
    def enabled(self) -> bool:
        return self._client is not None

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def __aenter__(self) -> "UpstreamSync":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def nudge(self) -> None:
        """New items are waiting: sync soon (not during a backoff). Call on the loop;
        from a worker thread use `loop.call_soon_threadsafe(sync.nudge)`."""
        self._nudged.set()

    async def sync_once(self) -> SyncReport:
        """Send due items in batches until none is due or a batch fails."""
        report = SyncReport()
        client = self._client
        if client is None:
            self._log_disabled()
            report.disabled = True
            return report
        async with self._lock:
            while True:
                rows = await asyncio.to_thread(
                    self.store.outbox.due, self._batch_size, self.clock())
                if not rows:
                    return report
                if not await self._send_batch(client, rows, report):
                    return report

    async def sync_round(self) -> SyncReport:
        """Sync down (each user's cloud state applied), then up: privacy settings changed
        in the cloud are in force before the next item leaves."""
        down = await self.sync_down()
        if down.retry_in is not None:
            return SyncReport(retry_in=down.retry_in, offline=down.offline, error=down.error,
                              down=down)
        report = await self.sync_once()
        report.down = down
        return report

    async def sync_down(self) -> DownReport:
        """Read `edgecoach:deviceState` for each user and apply it (device_state.py)."""
        report = DownReport()
        client = self._client
        if client is None:
            return report
        async with self._lock:
            users = await asyncio.to_thread(self._users_to_sync)
            for user_id in users:
                if not await self._sync_user_down(client, user_id, report):
                    break
        return report

    def _users_to_sync(self) -> list[str]:
        return sorted(set(self.users) | set(self.store.subscriptions.user_ids()))

    async def _sync_user_down(self, client: ConvexClient, user_id: str,
                              report: DownReport) -> bool:
        """One user's state; False when the round must stop (offline, unavailable)."""
        sync_state = SyncState(self.store.database)
        since = await asyncio.to_thread(sync_state.cursor, user_id)
        try:
            value = await client.query(DEVICE_STATE_PATH, {"userId": user_id, "since": since})
        except UpstreamForbidden as error:  # the token does not cover this user: skip it
            report.refused += 1
            self._log_down_once(user_id, "refused", f"device state refused: {error}")
            return True
        except UpstreamUnavailable as error:  # offline, failing or refusing: as for a batch
            delay = self.backoff.next_delay(error.retry_after)
            report.retry_in, report.error = delay, str(error)
            report.offline = isinstance(error, UpstreamOffline)
            self._outage_began("offline" if report.offline else "failing", error, delay,
                               "device state not read")
            return False
        await self._recovered()
        try:
            reply = DeviceStateReply.model_validate(value)
            if reply.user_id != user_id:
                raise ValueError(f"a reply for user {reply.user_id!r}")
        except (ValidationError, ValueError) as error:
            report.invalid += 1
            message = f"device state not applied (invalid reply): {_first_line(error)}"
            self._log_down_once(user_id, "invalid", message)
            await asyncio.to_thread(sync_state.failed, user_id, message)
            return True
        applied = await asyncio.to_thread(apply_device_state, self.store, reply)
        report.applied.append(applied)
        self._down_logged = {entry for entry in self._down_logged if entry[0] != user_id}
        if applied.tier:
            logger.info("user %s: subscription is now %s (from the cloud)", user_id,
                        applied.tier)
        if applied.deleted:
            await self._user_deleted(client, user_id)
        return True

    async def _user_deleted(self, client: ConvexClient, user_id: str) -> None:
        logger.warning("user %s erased on the cloud's request", user_id)
        if self.on_user_deleted is not None:
            self.on_user_deleted(user_id)
        try:
            await client.mutation(ACKNOWLEDGE_PATH, {"userId": user_id})
        except UpstreamUnavailable as error:  # still pending upstream: done again next round
            logger.warning("erasure of %s not acknowledged yet: %s", user_id, error)

    def _log_down_once(self, user_id: str, kind: str, message: str) -> None:
        if (user_id, kind) not in self._down_logged:
            self._down_logged.add((user_id, kind))
            logger.warning("user %s: %s", user_id, message)

    async def run(self, stop: asyncio.Event) -> None:
        """Sync every `sync_interval_seconds`, sooner on `nudge()`, until `stop` is set."""
        if self._client is None:
            self._log_disabled()
            return
        while not stop.is_set():
            self._nudged.clear()
            try:
                report = await self.sync_round()
            except Exception:  # a store or programming error must not end the daemon's sync
                logger.exception("upstream sync round failed")
                report = SyncReport(retry_in=self.backoff.next_delay())
            if report.retry_in is not None:
                await self._pause(report.retry_in, stop, wake_on_nudge=False)
            else:
                await self._pause(self.settings.sync_interval_seconds, stop, wake_on_nudge=True)

    async def _send_batch(self, client: ConvexClient, rows: list[dict],
                          report: SyncReport) -> bool:
        """One request; False when the round must stop (the batch failed as a whole)."""
        prepared = await asyncio.to_thread(prepare, self.store.database, rows)
        if prepared.dropped:
            await asyncio.to_thread(self.store.outbox.drop, list(prepared.dropped))
            report.dropped += len(prepared.dropped)
            logger.debug("dropped %d outbox items: %s", len(prepared.dropped),
                         sorted(set(prepared.dropped.values())))
        if not prepared.items:
            return True
        ids = [item["id"] for item in prepared.items]
        args: dict[str, Any] = {"protocol": PROTOCOL_VERSION, "items": prepared.items}
        report.batches += 1
        try:
            ack = _parse_ack(await client.mutation(INGEST_PATH, args), ids)
        except UpstreamUnavailable as error:
            await self._batch_failed(error, ids, report)
            return False
        await self._recovered()
        if ack.accepted:
            await asyncio.to_thread(self.store.outbox.mark_sent, ack.accepted)
        report.sent += len(ack.accepted)
        if ack.rejected:
            await self._items_rejected(ack.rejected, rows)
            report.rejected += len(ack.rejected)
        self._batch_size = min(self.settings.batch_size, self._batch_size * 2)
        return True

    async def _batch_failed(self, error: UpstreamUnavailable, ids: list[str],
                            report: SyncReport) -> None:
        delay = self.backoff.next_delay(error.retry_after)
        offline = isinstance(error, UpstreamOffline)
        report.retry_in, report.offline, report.error = delay, offline, str(error)
        report.failed += len(ids)
        if isinstance(error, UpstreamRejected):
            self._batch_size = max(1, self._batch_size // 2)
        if not offline:
            await asyncio.to_thread(
                self.store.outbox.mark_failed, ids, str(error), self.clock() + delay)
            self._held = ids
        self._outage_began("offline" if offline else "failing", error, delay,
                           f"{len(ids)} pending items wait")

    def _outage_began(self, kind: str, error: Exception, delay: float, waiting: str) -> None:
        """One warning per outage."""
        if self._outage != kind:
            self._outage = kind
            self._outage_since = self._outage_since or self.clock()
            logger.warning("upstream %s (%s); %s, next try in %.1f s",
                           kind, error, waiting, delay)
        else:
            logger.debug("upstream still %s (%s); next try in %.1f s", kind, error, delay)

    async def _recovered(self) -> None:
        """A call went through: end the outage, make the held items due again at once."""
        self.backoff.reset()
        if self._outage is not None:
            since = self._outage_since or self.clock()
            logger.info("upstream reachable again after %.0f s", self.clock() - since)
            self._outage, self._outage_since = None, None
        if self._held:
            await asyncio.to_thread(self.store.outbox.reschedule, self._held, self.clock())
            self._held = []

    async def _items_rejected(self, rejected: dict[str, str], rows: list[dict]) -> None:
        attempts = {row["id"]: row["attempts"] for row in rows}
        for item_id, reason in rejected.items():
            delay = Backoff(rng=self._rng, attempts=attempts.get(item_id, 0)).next_delay()
            await asyncio.to_thread(self.store.outbox.mark_failed, [item_id],
                                    f"rejected: {reason}", self.clock() + delay)
        logger.warning("upstream rejected %d items (first: %s)", len(rejected),
                       next(iter(rejected.values())))

    async def _pause(self, seconds: float, stop: asyncio.Event, wake_on_nudge: bool) -> None:
        waiters = [asyncio.ensure_future(self._sleep(seconds)),
                   asyncio.ensure_future(stop.wait())]
        if wake_on_nudge:
            waiters.append(asyncio.ensure_future(self._nudged.wait()))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)

    def _log_disabled(self) -> None:
        if not self._disabled_logged:
            self._disabled_logged = True
            logger.info("upstream sync disabled: no upstream.url configured")


def _parse_ack(value: Any, sent_ids: list[str]) -> _Ack:
    """The deployment's reply `{"accepted": [ids], "rejected": [{"id", "error"}]}`."""
    if not isinstance(value, dict) or not isinstance(value.get("accepted"), list):
        raise UpstreamUnavailable("malformed reply value (no accepted list)")
    sent = set(sent_ids)
    accepted = [item_id for item_id in value["accepted"] if item_id in sent]
    rejected: dict[str, str] = {}
    for entry in value.get("rejected") or []:
        if isinstance(entry, dict) and entry.get("id") in sent:
            rejected[entry["id"]] = str(entry.get("error") or "no reason given")[:200]
    unanswered = sent - set(accepted) - set(rejected)
    for item_id in sent_ids:
        if item_id in unanswered:
            rejected[item_id] = "not acknowledged"
    return _Ack(accepted=accepted, rejected=rejected)


def _first_line(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return str(describe_validation_error(error))
    return str(error)[:200]
