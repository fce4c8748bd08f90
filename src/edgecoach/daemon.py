"""`edgecoach run`: one asyncio loop that owns the daemon (DESIGN section 3).

Sources put items on one queue; the consumer routes them (events through the pipeline,
heart rate into the workout session, strap/earbud changes into device state, earbud
buttons into feedback); APScheduler runs the periodic work; SIGTERM/SIGINT drain the
queue and close the store cleanly.
"""

import asyncio
import contextlib
import functools
import logging
import signal
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from edgecoach.audio import Player, make_output
from edgecoach.catalog import load_catalog
from edgecoach.coach import CoachPolicy, LineGenerator
from edgecoach.contract import Feedback, Subscription, WorkoutEvent
from edgecoach.controls.buttons import ButtonAction
from edgecoach.errors import Busy, DaemonFailed, EdgeCoachError
from edgecoach.feedback import give_feedback
from edgecoach.pipeline import CoachingPipeline, DeviceStatus, Parts
from edgecoach.session.recorder import WorkoutRecorder
from edgecoach.session.talk_budget import TalkBudget
from edgecoach.session.workout import WorkoutSession
from edgecoach.settings import Settings
from edgecoach.sources import EarbudsState, HeartRateSample, StrapState, WorkoutPlan
from edgecoach.store import Store
from edgecoach.supervisor import Supervisor
from edgecoach.sync import UpstreamSync
from edgecoach.systemd_notify import ServiceNotifier

if TYPE_CHECKING:
    from edgecoach.api import ApiServer

log = logging.getLogger(__name__)

PURGE_EVERY_HOURS = 24
EVICT_EVERY_HOURS = 1
DRAIN_TIMEOUT_SECONDS = 10
QUEUE_SIZE = 10_000
RESUME_WITHIN_SECONDS = 300
# No item takes this long (a line is a few seconds): past it the consumer is stuck and
# the systemd watchdog is no longer fed.
CONSUMER_STUCK_SECONDS = 120

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
    generator = LineGenerator.load(settings.models_dir, settings.coach.alternative_model,
                                   personas=catalog.personas)
    voice = VoiceService.load(catalog.personas, store.database, settings.cache,
                              settings.models_dir, settings.voice_threads)
    policy = CoachPolicy(catalog, store.limits, settings.athlete, strain=settings.strain,
                         talk_budget=TalkBudget(store.database))
    return Parts(store=store, catalog=catalog, policy=policy, generator=generator,
                 voice=voice, player=player or Player(make_output(settings.audio)))


def ensure_user(store: Store, settings: Settings) -> bool:
    """Create the user's subscription on first run; True when this is the first run.
    A user erased through the API stays erased: only a new subscription brings them back."""
    if store.subscriptions.exists(settings.user_id):
        return False
    if store.erasures.is_erased(settings.user_id):
        log.warning("user %s was erased: nothing is coached until a new subscription is "
                    "stored", settings.user_id)
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
        # Every user the API names shares the hourly tier of the daemon's athlete.
        parts.store.limits.device_owner = settings.user_id
        self.pipeline = CoachingPipeline(parts)
        self.session = WorkoutSession(settings.user_id, settings.athlete, settings.strain)
        self.recorder = WorkoutRecorder(parts.store.workouts, settings.user_id, "live",
                                        settings.athlete, settings.strain)
        self.sync = UpstreamSync(parts.store, settings.upstream, users=(settings.user_id,),
                                 on_user_deleted=self.pipeline.forget_user)
        self.talk_budget = TalkBudget(parts.store.database)
        self.stop = asyncio.Event()
        self.started_at = time.time()
        self._item_started = 0.0  # time.monotonic() the consumer took its item, 0 idle
        self.api: ApiServer | None = None  # serving while `run` runs

    # The DaemonPort the local API talks to.

    async def submit(self, item: WorkoutEvent | WorkoutPlan) -> None:
        """Store an event, then queue it: an event the API acknowledged survives a crash.
        A plan only speeds the coming lines up, so it is not stored."""
        if self.queue.full():
            raise Busy(f"event queue is full ({QUEUE_SIZE} items)")
        if isinstance(item, WorkoutEvent):
            stored = await asyncio.to_thread(self.parts.store.responses.record_event, item)
            if not stored:
                return  # the same event again: it is queued, handled or resumed already
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            # Filled while the event was being stored: it was not acknowledged, so it goes.
            if isinstance(item, WorkoutEvent):
                await asyncio.to_thread(self.parts.store.responses.forget_event, item.id)
            raise Busy(f"event queue is full ({QUEUE_SIZE} items)") from None

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

    def forget_user(self, user_id: str) -> None:
        self.pipeline.forget_user(user_id)

    # Running.

    async def run(self) -> None:
        """Serve until SIGTERM/SIGINT. The API is bound before anything starts (a taken
        port or a bad token file raises ConfigError here, and READY is never sent);
        an essential task that ends stops the daemon with DaemonFailed."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self.stop.set)
        async with contextlib.AsyncExitStack() as api_stack:
            api = self.api = (await self._start_api(api_stack)
                              if self.settings.api.enabled else None)
            supervisor = Supervisor(self.stop)
            scheduler = self._scheduler()
            await self.parts.player.start()
            consumer = supervisor.essential("event consumer", self._consume())
            if api is not None:
                supervisor.essential("API server", api.wait_closed())
            for number, source in enumerate(self.sources, start=1):
                supervisor.restartable(f"source {number} ({_name_of(source)})",
                                       functools.partial(source, self.queue))
            supervisor.restartable("upstream sync", functools.partial(self.sync.run, self.stop))
            watchdog = asyncio.create_task(self.notifier.watchdog(
                alive=lambda: self._consumer_alive(consumer)))
            await self._resume_unfinished()
            if await asyncio.to_thread(ensure_user, self.parts.store, self.settings):
                await self.queue.put(WorkoutEvent(trigger_id="onboarding",
                                                  user_id=self.settings.user_id, source="cli"))
            scheduler.start()
            if not self.stop.is_set():
                self.notifier.ready(f"coaching {self.settings.user_id}")
                log.info("edgecoach running (user %s, %d sources)", self.settings.user_id,
                         len(self.sources))
            await self.stop.wait()
            self.notifier.stopping()
            log.info("stopping: draining %d queued items", self.queue.qsize())
            watchdog.cancel()
            await supervisor.cancel(consumer)
            await api_stack.aclose()
        await self._drain(consumer)
        scheduler.shutdown(wait=False)
        await self.pipeline.close()
        await asyncio.to_thread(self.recorder.finish, time.time())  # a workout under way
        await self.parts.player.close()
        await self.sync.aclose()
        self.parts.voice.cache.flush_hits()
        self.parts.store.close()
        if supervisor.failure:
            log.error("stopped: %s", supervisor.failure)
            raise DaemonFailed(supervisor.failure)
        log.info("stopped")

    def _consumer_alive(self, consumer: asyncio.Task) -> bool:
        """Alive: running, and not stuck on one item for longer than any item takes."""
        busy_for = time.monotonic() - self._item_started if self._item_started else 0.0
        return not consumer.done() and busy_for < CONSUMER_STUCK_SECONDS

    async def _resume_unfinished(self) -> None:
        """Events a crash left between stored and handled: recent ones are coached now,
        stale ones are recorded as held back (a cue for a set long over would mislead)."""
        responses = self.parts.store.responses
        now = time.time()
        for event in await asyncio.to_thread(responses.unfinished_events):
            if now - event.timestamp <= RESUME_WITHIN_SECONDS:
                await self.queue.put(event)  # the consumer runs: more than fit wait here
            else:
                await asyncio.to_thread(responses.mark_event, event.id, "suppressed",
                                        "stale after a restart")

    async def _start_api(self, stack: contextlib.AsyncExitStack) -> "ApiServer":
        from edgecoach.api import ApiServer, create_app, ensure_token

        token = await asyncio.to_thread(ensure_token, self.settings.token_path)
        app = create_app(self.parts.store, token, self, user_id=self.settings.user_id)
        return await stack.enter_async_context(ApiServer(app, self.settings.api))

    async def _consume(self) -> None:
        while True:
            item = await self.queue.get()
            self._item_started = time.monotonic()
            try:
                await self.route(item)
            except EdgeCoachError as error:
                log.error("could not handle %s: %s", type(item).__name__, error)
            except Exception as error:
                # A bug on one item must not stop coaching: logged whole, the event failed.
                log.exception("internal error handling %s", type(item).__name__)
                await self._mark_failed(item, f"internal error: {type(error).__name__}: {error}")
            finally:
                self._item_started = 0.0
                self.queue.task_done()

    async def _mark_failed(self, item: object, reason: str) -> None:
        if isinstance(item, WorkoutEvent):
            try:
                await asyncio.to_thread(self.parts.store.responses.mark_event, item.id,
                                        "failed", reason[:500])
            except EdgeCoachError as error:
                log.error("event %s could not be marked failed: %s", item.id, error)

    async def route(self, item: object) -> None:
        devices = self.parts.devices
        if isinstance(item, WorkoutEvent):
            await asyncio.to_thread(self.recorder.on_event, item)
            self.session.on_event(item)
            outcome = await self.pipeline.handle(item)
            await asyncio.to_thread(self.recorder.on_handled, item)
            if outcome.status == "spoken":
                self.sync.nudge()
        elif isinstance(item, WorkoutPlan):
            await self.pipeline.expect(item)
        elif isinstance(item, HeartRateSample):
            devices.heart_rate = item.bpm
            self.recorder.on_sample(item.bpm, item.timestamp)
            if self.recorder.flush_due:
                await asyncio.to_thread(self.recorder.flush)
            for event in self.session.on_sample(item, item.timestamp):
                await self.route(event)  # now: a zone cue is late behind a full queue
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


def _name_of(source: Source) -> str:
    owner = getattr(source, "__self__", None)
    return type(owner).__name__ if owner is not None else getattr(source, "__name__", "source")


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
