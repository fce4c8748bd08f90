"""`edgecoach run`: one asyncio loop that owns the daemon (DESIGN section 3).

Sources put items on one queue; the consumer routes them (events through the pipeline,
heart rate into the workout session, strap/earbud changes into device state, earbud
buttons into feedback); APScheduler runs the periodic work; SIGTERM/SIGINT drain the
queue and close the store cleanly.
"""

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable, Coroutine
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from edgecoach.audio import Player, make_output
from edgecoach.catalog import load_catalog
from edgecoach.coach import CoachPolicy, LineGenerator
from edgecoach.contract import Feedback, Subscription, WorkoutEvent
from edgecoach.controls.buttons import ButtonAction
from edgecoach.errors import Busy, EdgeCoachError
from edgecoach.feedback import give_feedback
from edgecoach.pipeline import CoachingPipeline, DeviceStatus, Parts
from edgecoach.session.talk_budget import TalkBudget
from edgecoach.session.workout import WorkoutSession
from edgecoach.settings import Settings
from edgecoach.sources import EarbudsState, HeartRateSample, StrapState, WorkoutPlan
from edgecoach.store import Store
from edgecoach.sync import UpstreamSync
from edgecoach.systemd_notify import ServiceNotifier

log = logging.getLogger(__name__)

PURGE_EVERY_HOURS = 24
EVICT_EVERY_HOURS = 1
DRAIN_TIMEOUT_SECONDS = 10
QUEUE_SIZE = 10_000
RESUME_WITHIN_SECONDS = 300

# A coroutine, not any awaitable: asyncio.create_task runs each source as a task.
Source = Callable[[asyncio.Queue], Coroutine[Any, Any, None]]


def build_parts(settings: Settings, store: Store | None = None,
                player: Player | None = None) -> Parts:
    """Load everything once, at start: a bad config, model or voice fails here, clearly.

    `store` and `player` replace the configured ones (the demo's, a benchmark's, a test's).
    """
    from edgecoach.voice import VoiceService

    catalog = load_catalog(settings.config_dir)
    store = store or Store.open(settings.database_path)
    generator = LineGenerator.load(settings.models_dir, settings.coach.alternative_model)
    voice = VoiceService.load(catalog.personas, store.database, settings.cache,
                              settings.models_dir, settings.voice_threads)
    policy = CoachPolicy(catalog, store.limits, settings.athlete, strain=settings.strain,
                         talk_budget=TalkBudget(store.database))
    return Parts(store=store, catalog=catalog, policy=policy, generator=generator,
                 voice=voice, player=player or Player(make_output(settings.audio)))


def ensure_user(store: Store, settings: Settings) -> bool:
    """Create the user's subscription on first run; True when this is the first run."""
    if store.subscriptions.exists(settings.user_id):
        return False
    store.subscriptions.put(Subscription(user_id=settings.user_id,
                                         preferred_persona=settings.persona))
    return True


class Daemon:
    def __init__(self, settings: Settings, parts: Parts, sources: list[Source] | None = None,
                 notifier: ServiceNotifier | None = None) -> None:
        self.settings = settings
        self.parts = parts
        self.sources = sources or []
        self.notifier = notifier or ServiceNotifier()
        self.queue: asyncio.Queue = asyncio.Queue(QUEUE_SIZE)
        self.pipeline = CoachingPipeline(parts)
        self.session = WorkoutSession(settings.user_id, settings.athlete, settings.strain)
        self.sync = UpstreamSync(parts.store, settings.upstream)
        self.talk_budget = TalkBudget(parts.store.database)
        self.stop = asyncio.Event()
        self.started_at = time.time()

    # The DaemonPort the local API talks to.

    async def submit(self, item: WorkoutEvent | WorkoutPlan) -> None:
        """Store an event, then queue it: an event the API acknowledged survives a crash.
        A plan only speeds the coming lines up, so it is not stored."""
        if self.queue.full():
            raise Busy(f"event queue is full ({QUEUE_SIZE} items)")
        if isinstance(item, WorkoutEvent):
            await asyncio.to_thread(self.parts.store.responses.record_event, item)
        self.queue.put_nowait(item)

    def status(self) -> dict[str, Any]:
        devices: DeviceStatus = self.parts.devices
        return {
            "hasEarbuds": devices.has_earbuds, "strapConnected": devices.strap_connected,
            "heartRate": devices.heart_rate, "strapBattery": devices.strap_battery,
            "workoutActive": self.session.active, "queueSize": self.queue.qsize(),
            "playerQueue": self.parts.player.queued, "sources": len(self.sources),
            "uptimeSeconds": round(time.time() - self.started_at, 1),
            "audioOutput": self.parts.player.sink.name,
        }

    async def talk(self, user_id: str, direction: str) -> dict[str, Any]:
        level = await asyncio.to_thread(self.talk_budget.nudge, user_id, direction)
        return {"userId": user_id, "direction": direction, "chattiness": level}

    # Running.

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self.stop.set)
        scheduler = self._scheduler()
        await self.parts.player.start()
        tasks = [asyncio.create_task(source(self.queue)) for source in self.sources]
        tasks += [asyncio.create_task(self.notifier.watchdog()),
                  asyncio.create_task(self.sync.run(self.stop))]
        if self.settings.api.enabled:
            tasks.append(asyncio.create_task(self._serve_api()))
        await self._resume_unfinished()
        if await asyncio.to_thread(ensure_user, self.parts.store, self.settings):
            self.queue.put_nowait(WorkoutEvent(trigger_id="onboarding",
                                               user_id=self.settings.user_id, source="cli"))
        scheduler.start()
        consumer = asyncio.create_task(self._consume())
        self.notifier.ready(f"coaching {self.settings.user_id}")
        log.info("edgecoach running (user %s, %d sources)", self.settings.user_id,
                 len(self.sources))
        await self.stop.wait()
        self.notifier.stopping()
        log.info("stopping: draining %d queued items", self.queue.qsize())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._drain(consumer)
        scheduler.shutdown(wait=False)
        await self.pipeline.close()
        await self.parts.player.close()
        await self.sync.aclose()
        self.parts.voice.cache.flush_hits()
        self.parts.store.close()
        log.info("stopped")

    async def _resume_unfinished(self) -> None:
        """Events a crash left between stored and handled: recent ones are coached now,
        stale ones are recorded as held back (a cue for a set long over would mislead)."""
        responses = self.parts.store.responses
        now = time.time()
        for event in await asyncio.to_thread(responses.unfinished_events):
            if now - event.timestamp <= RESUME_WITHIN_SECONDS:
                self.queue.put_nowait(event)
            else:
                await asyncio.to_thread(responses.mark_event, event.id, "suppressed",
                                        "stale after a restart")

    async def _serve_api(self) -> None:
        from edgecoach.api import create_app, ensure_token, serve_api

        token = await asyncio.to_thread(ensure_token, self.settings.token_path)
        app = create_app(self.parts.store, token, self, user_id=self.settings.user_id)
        await serve_api(app, self.settings.api)

    async def _consume(self) -> None:
        while True:
            item = await self.queue.get()
            try:
                await self.route(item)
            except EdgeCoachError as error:
                log.error("could not handle %s: %s", type(item).__name__, error)
            finally:
                self.queue.task_done()

    async def route(self, item: object) -> None:
        devices = self.parts.devices
        if isinstance(item, WorkoutEvent):
            self.session.on_event(item)
            outcome = await self.pipeline.handle(item)
            if outcome.status == "spoken":
                self.sync.nudge()
        elif isinstance(item, WorkoutPlan):
            await self.pipeline.expect(item)
        elif isinstance(item, HeartRateSample):
            devices.heart_rate = item.bpm
            for event in self.session.on_sample(item, item.timestamp):
                self.queue.put_nowait(event)
        elif isinstance(item, StrapState):
            devices.strap_connected, devices.strap_battery = item.connected, item.battery_percent
            if notice := self.session.on_strap(item):
                await self.pipeline.say_notice(self.settings.user_id, notice)
        elif isinstance(item, EarbudsState):
            if devices.has_earbuds and not item.has_earbuds:
                self.parts.player.stop_now()  # never finish a line on the speaker
            devices.has_earbuds = item.has_earbuds
        elif isinstance(item, ButtonAction):
            await self._button(item)

    async def _button(self, action: ButtonAction) -> None:
        user = self.settings.user_id
        last = await asyncio.to_thread(self.parts.store.responses.recent, user, 1)
        if action.action == "skip":
            self.parts.player.stop_now()
            await self.talk(user, "less")
        elif action.action in ("less-talk", "more-talk"):
            await self.talk(user, action.action.split("-")[0])
        elif action.action == "repeat" and last:
            spoken = await asyncio.to_thread(self.parts.voice.speak, last[0].persona_id,
                                             last[0].text_content)
            self.parts.player.enqueue(spoken, priority=10, label="repeat")
        elif action.action in ("helpful", "not-helpful") and last:
            rating = Feedback(rating=5 if action.action == "helpful" else 2,
                              helpful=action.action == "helpful")
            await asyncio.to_thread(give_feedback, self.parts.store, last[0].id, rating)
            self.sync.nudge()

    async def _drain(self, consumer: asyncio.Task) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.queue.join(), DRAIN_TIMEOUT_SECONDS)
        consumer.cancel()
        await asyncio.gather(consumer, return_exceptions=True)

    def _scheduler(self) -> AsyncIOScheduler:
        scheduler = AsyncIOScheduler()
        store, voice = self.parts.store, self.parts.voice
        scheduler.add_job(asyncio.to_thread, "interval", args=[store.retention.purge],
                          hours=PURGE_EVERY_HOURS, id="retention-purge")
        scheduler.add_job(asyncio.to_thread, "interval", args=[voice.evict],
                          hours=EVICT_EVERY_HOURS, id="cache-eviction")
        scheduler.add_job(asyncio.to_thread, "cron",
                          args=[store.subscriptions.reset_monthly_usage],
                          day=1, hour=0, minute=0, id="monthly-usage-reset")
        return scheduler


def make_sources(settings: Settings, subscription: Subscription,
                 bus_address: str | None = None) -> list[Source]:
    """The live sources the settings enable (each logs once and idles without hardware)."""
    from edgecoach.controls.buttons import ButtonReader
    from edgecoach.sources import EarbudsWatcher, HeartRateMonitor

    sources: list[Source] = []
    if settings.sources.ble_enabled:
        sources.append(HeartRateMonitor(settings.sources.ble_address).run)
    if settings.sources.bluez_enabled:
        watcher = EarbudsWatcher(
            bus_address, enabled=subscription.device_preferences.auto_detect_earbuds)
        sources.append(watcher.run)
    if settings.sources.buttons_enabled:
        sources.append(ButtonReader().run)
    return sources
