"""The flow of one event (DESIGN section 3): policy, line, voice, output, store.

Blocking work (SQLite, ONNX, Piper) runs in worker threads; this module only awaits it.
Every event is stored first and ends marked spoken, suppressed (with the reason) or
failed, so none is lost whatever happens after it arrives.
"""

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from edgecoach.audio import Player
from edgecoach.audio.earcon import earcon
from edgecoach.catalog import Catalog
from edgecoach.coach import CoachPolicy, Decision, GeneratedLine, LineGenerator
from edgecoach.coach.seeds import content_seed
from edgecoach.contract import (
    DeviceState,
    PersonaId,
    ResponseMetadata,
    Subscription,
    TriggerId,
    VoiceResponse,
    WorkoutContext,
    WorkoutEvent,
)
from edgecoach.errors import EdgeCoachError, LimitExceeded
from edgecoach.forecast import Forecast, SetForecast
from edgecoach.session.workout import Notice
from edgecoach.sources.items import WorkoutPlan
from edgecoach.store import Store
from edgecoach.transcript import Transcript
from edgecoach.voice import LineStream, SpokenLine, VoiceService

log = logging.getLogger(__name__)

Status = Literal["spoken", "suppressed", "failed"]
HEART_RATE_TAGS = frozenset({"hr-easy", "hr-steady", "hr-hard", "hr-max", "no-hr"})
# Cues that are wrong when late: a set already under way, a heart rate that moved on.
# When the line's first audio is not ready EARCON_AFTER_MS after the line was written
# (a busy machine), they get the earcon; the line follows only if its first audio is
# ready within LATE_LINE_MS of the event, else the earcon stands in for it.
TIME_CRITICAL_TRIGGERS = frozenset({"set-start", "hr-zone"})
EARCON_AFTER_MS = 300.0
LATE_LINE_MS = 1500.0
SPECULATION_SETTLE_S = 0.25  # after a plan, before its first lines are synthesized
RECENT_LINES = 50  # a user never hears one of their last RECENT_LINES lines again
ERASED = "user erased"


@dataclass
class DeviceStatus:
    """What the daemon knows of the athlete's devices right now."""

    has_earbuds: bool = False
    strap_connected: bool = False
    heart_rate: int | None = None
    strap_battery: int | None = None
    platform: str = "linux"

    def state(self) -> DeviceState:
        return DeviceState(has_earbuds=self.has_earbuds, platform=self.platform)


@dataclass(frozen=True)
class Outcome:
    event: WorkoutEvent
    status: Status
    reason: str | None = None
    tags: tuple[str, ...] = ()
    response: VoiceResponse | None = None
    spoken: SpokenLine | None = None
    ready_ms: float = 0.0  # event handed in -> first audio ready to play
    prepared: bool = False


@dataclass
class PreparedLine:
    persona: str
    line: GeneratedLine
    context: WorkoutContext
    tags: tuple[str, ...]


@dataclass
class Parts:
    """Everything the pipeline calls, built once by the daemon (or a test)."""

    store: Store
    catalog: Catalog
    policy: CoachPolicy
    generator: LineGenerator
    voice: VoiceService
    player: Player
    devices: DeviceStatus = field(default_factory=DeviceStatus)


class CoachingPipeline:
    def __init__(self, parts: Parts, transcript: Transcript | None = None,
                 speculate: bool = True) -> None:
        self.parts = parts
        self.transcript = transcript
        self.speculate = speculate
        self._prepared: dict[tuple, PreparedLine] = {}
        self._forecast = SetForecast()
        # Prepared lines to synthesize: (userId, persona, text).
        self._unvoiced: list[tuple[str, str, str]] = []
        self._speculation: asyncio.Task[None] | None = None
        self._plan_at = 0.0  # time.perf_counter() of the last plan handed in

    async def handle(self, event: WorkoutEvent, workout_time: float | None = None) -> Outcome:
        started = time.perf_counter()
        try:
            with self.parts.voice.live_event():
                outcome = await self._handle(event, started)
        except EdgeCoachError as error:
            log.error("event %s (%s) failed: %s", event.id, event.trigger_id, error)
            await asyncio.to_thread(
                self.parts.store.responses.mark_event, event.id, "failed", str(error))
            outcome = Outcome(event, "failed", str(error))
        self._record(outcome, workout_time)
        if self.speculate and outcome.status != "failed":
            await self._speculate_after(event)
        return outcome

    async def _handle(self, event: WorkoutEvent, started: float) -> Outcome:
        store = self.parts.store
        subscription, decision, prepared, stream = await asyncio.to_thread(
            self._decide_prepared, event)
        if not decision.speak:
            return Outcome(event, "suppressed", decision.reason, tuple(decision.tags))
        persona = subscription.preferred_persona
        trigger = self.parts.catalog.trigger(event.trigger_id)
        if prepared is None:
            line = await asyncio.to_thread(self._generate, persona, event, decision.tags)
            stream = await asyncio.to_thread(self._open, persona, line.text, event, subscription)
        else:
            line = prepared.line
        reason, ready_ms = None, 0.0
        if stream is None:
            reason = "tts limit reached"
        else:
            # A miss plays as it is synthesized: wait for its first piece.
            first_soon = stream.has_audio or await asyncio.to_thread(
                stream.wait_first, EARCON_AFTER_MS / 1000)
            time_critical = event.trigger_id in TIME_CRITICAL_TRIGGERS and not first_soon
            if time_critical:
                self.parts.player.enqueue(earcon(), priority=trigger.priority, label="earcon")
            if not first_soon:
                await asyncio.to_thread(stream.wait_first)
            ready_ms = (time.perf_counter() - started) * 1000
            if time_critical and ready_ms > LATE_LINE_MS:
                reason = f"line ready after {ready_ms:.0f} ms: the earcon stood in for it"
        if reason:
            await asyncio.to_thread(store.responses.mark_event, event.id, "suppressed", reason)
            return Outcome(event, "suppressed", reason, tuple(decision.tags))
        assert stream is not None  # a missing line set `reason` and returned above
        self.parts.player.enqueue(stream, priority=trigger.priority, label=event.trigger_id)
        spoken = await asyncio.to_thread(stream.result)
        response = self._response(event, persona, line, spoken)
        if not await asyncio.to_thread(store.responses.add, response):
            return Outcome(event, "suppressed", ERASED, tuple(decision.tags))
        return Outcome(event, "spoken", None, tuple(decision.tags), response, spoken, ready_ms,
                       prepared is not None)

    def _decide_prepared(self, event: WorkoutEvent) -> tuple[
            Subscription, Any, PreparedLine | None, LineStream | None]:
        """The decision and, when a line prepared ahead fits, that line opened (None: the
        TTS limit): a hit takes one hop off the event loop, not two (on a busy machine
        each hop waits for its thread, a few ms)."""
        subscription, decision = self._decide(event)
        if not decision.speak:
            return subscription, decision, None, None
        persona = subscription.preferred_persona
        prepared = self._take_prepared(event, persona, decision.tags)
        if prepared is None:
            return subscription, decision, None, None
        return subscription, decision, prepared, self._open(
            persona, prepared.line.text, event, subscription)

    def _decide(self, event: WorkoutEvent) -> tuple[Subscription, Any]:
        store = self.parts.store
        if store.erasures.is_erased(event.user_id):
            # Erasure wins over what was queued before it: nothing of it is stored.
            return Subscription(user_id=event.user_id), Decision(False, ERASED)
        # The athlete waits for these commits: unsynced, the line's own (or the event's
        # mark) syncs them (Database.unsynced; the API synced an event before its 202).
        with store.database.unsynced():
            store.responses.record_event(event)
            subscription = store.subscriptions.get(event.user_id)
            # What the app reports with its event counts: its earbuds, its mute switch.
            reported = event.device_state
            if reported is not None and not reported.audio_enabled:
                decision = Decision(False, "audio is off on the app (deviceState.audioEnabled)",
                                    self.parts.policy.tags_for(event))
            else:
                earbuds = self.parts.devices.has_earbuds or bool(
                    reported and reported.has_earbuds)
                decision = self.parts.policy.decide(event, subscription, earbuds)
        if not decision.speak:
            store.responses.mark_event(event.id, "suppressed", decision.reason)
        return subscription, decision

    def _generate(self, persona: str, event: WorkoutEvent, tags: list[str]) -> GeneratedLine:
        return self.parts.generator.generate(
            persona, self.parts.catalog.trigger(event.trigger_id), event.context, tags,
            seed=content_seed(event.user_id, event.trigger_id, event.context),
            recent=self.parts.store.responses.recent_texts(event.user_id, RECENT_LINES),
        )

    def _open(self, persona: str, text: str, event: WorkoutEvent,
              subscription: Subscription) -> LineStream | None:
        """The cached line, or its synthesis started; a cache hit costs no TTS quota."""
        def charge_quota() -> None:
            decision = self.parts.store.limits.try_acquire(
                event.user_id, "tts_generation", subscription.subscription_type,
                subscription.device_preferences.max_daily_coaching, event.id)
            if not decision.allowed:
                raise LimitExceeded("tts limit reached")

        try:
            with self.parts.store.database.unsynced():  # the quota, a hit's count
                return self.parts.voice.open(persona, text, before_synthesis=charge_quota)
        except LimitExceeded:
            return None

    def _response(self, event: WorkoutEvent, persona: PersonaId, line: GeneratedLine,
                  spoken: SpokenLine) -> VoiceResponse:
        metadata = ResponseMetadata(
            **{**line.metadata.model_dump(), "tts_latency": spoken.tts_latency_ms,
               "cache_hit": spoken.cache_hit})
        return VoiceResponse(
            user_id=event.user_id, trigger_id=event.trigger_id, persona_id=persona,
            text_content=line.text, toast_message=line.toast, audio_key=spoken.cache_key,
            audio_length=spoken.audio_length_s, metadata=metadata,
            workout_context=event.context,
            device_state=event.device_state or self.parts.devices.state(),
            event_id=event.id,
        )

    # Speculative synthesis: while the athlete rests, prepare the likely next lines.

    def _prepared_key(self, user_id: str, trigger_id: str, context: WorkoutContext) -> tuple:
        return (user_id, trigger_id, context.exercise, context.set_number)

    def _take_prepared(self, event: WorkoutEvent, persona: str,
                       tags: list[str]) -> PreparedLine | None:
        """A prepared line is used only if everything it was written for still holds."""
        key = self._prepared_key(event.user_id, event.trigger_id, event.context)
        prepared = self._prepared.pop(key, None)
        if prepared is None:
            return None
        # The line can only say what its context held: every field it was written with
        # must still hold; a field it lacked (unknown then) it does not mention.
        known = prepared.context.model_dump(exclude_none=True)
        actual = event.context.model_dump()
        fits = prepared.persona == persona and all(
            actual[name] == value for name, value in known.items()) and (
            set(tags) - HEART_RATE_TAGS == set(prepared.tags) - HEART_RATE_TAGS)
        return prepared if fits else None

    async def expect(self, plan: WorkoutPlan) -> None:
        """Follow the plan of a workout about to start; its first set is prepared now."""
        self._plan_at = time.perf_counter()
        upcoming = self._forecast.expect(plan)
        if self.speculate:
            await self._prepare(plan.user_id, upcoming)

    async def _speculate_after(self, event: WorkoutEvent) -> None:
        upcoming = self._forecast.after(event)
        if upcoming is not None:
            await self._prepare(event.user_id, upcoming)

    async def _prepare(self, user_id: str, upcoming: Forecast) -> None:
        """Write the upcoming lines now; synthesize them in the background, in place of
        what an older event wanted.

        They are written before the event that asked for them returns (a few ms each), so
        an event that comes right after it finds its line. A synthesis under way is
        finished, not cancelled: its thread cannot be stopped, and a second one beside it
        would only slow both.
        """
        try:
            subscription = await asyncio.to_thread(self.parts.store.subscriptions.get, user_id)
            persona = subscription.preferred_persona
            written = [await self._write(user_id, persona, trigger_id, context)
                       for trigger_id, context in upcoming]
            texts = [text for text in written if text is not None]
        except EdgeCoachError as error:
            log.warning("speculative line failed: %s", error)
            return
        self._unvoiced = [(user_id, persona, text) for text in texts]
        if self._speculation is None or self._speculation.done():
            self._speculation = asyncio.create_task(self._voice_prepared())

    async def _write(self, user_id: str, persona: str, trigger_id: TriggerId,
                     context: WorkoutContext) -> str | None:
        key = self._prepared_key(user_id, trigger_id, context)
        known = self._prepared.get(key)
        if known and known.persona == persona and known.context == context:
            return known.line.text
        probe = WorkoutEvent(trigger_id=trigger_id, user_id=user_id, context=context)
        # Heart rate is not known in advance: no HR tag, so the line claims none
        # (not even "no heart rate") and fits whatever the strap will say.
        tags = [tag for tag in self.parts.policy.tags_for(probe) if tag not in HEART_RATE_TAGS]
        line = await asyncio.to_thread(self._generate, persona, probe, tags)
        if line.said_lately:
            # Known ahead, the context has few values and so few lines (no rest, no time
            # yet): rather than a line said lately, the event writes its own.
            return None
        self._prepared[key] = PreparedLine(persona, line, context, tuple(tags))
        return line.text

    async def _voice_prepared(self) -> None:
        """One synthesis at a time; a plan's first lines wait a moment for pre-start."""
        while self._unvoiced:
            # A plan comes right before its workout's pre-start: a speculative step
            # under way would delay pre-start's first audio (by 100-200 ms, measured).
            while (quiet := time.perf_counter() - self._plan_at) < SPECULATION_SETTLE_S:
                await asyncio.sleep(SPECULATION_SETTLE_S - quiet)
            if not self._unvoiced:
                return
            user_id, persona, text = self._unvoiced.pop(0)
            try:
                await asyncio.to_thread(self._note_prepared_clip, user_id, persona, text)
                await self.parts.voice.prepare(persona, [text])
            except EdgeCoachError as error:
                log.warning("speculative synthesis failed: %s", error)

    def _note_prepared_clip(self, user_id: str, persona: str, text: str) -> None:
        """Unsynced, as the clip's own commit (VoiceService._synthesize): a sync would hold
        the writer a hit waits for. Written to the WAL before the clip, the note is lost
        to a power cut only with it."""
        with self.parts.store.database.unsynced():
            self.parts.store.retention.note_prepared_clip(
                user_id, self.parts.voice.key(persona, text))

    def forget_user(self, user_id: str) -> None:
        """Drop the lines prepared for an erased user (their clips go with the user's
        rows: Retention.delete_user)."""
        self._prepared = {key: line for key, line in self._prepared.items()
                          if key[0] != user_id}
        self._unvoiced = [entry for entry in self._unvoiced if entry[0] != user_id]
        self.parts.voice.forget_fresh()

    async def say_notice(self, user_id: str, notice: Notice,
                         workout_time: float | None = None) -> None:
        """Speak a fixed status line (strap lost / back) in the user's persona."""
        subscription = await asyncio.to_thread(self.parts.store.subscriptions.get, user_id)
        persona = subscription.preferred_persona
        stream = await asyncio.to_thread(self.parts.voice.open, persona, notice.text)
        self.parts.player.enqueue(stream, priority=notice.priority, label=notice.kind)
        spoken = await asyncio.to_thread(stream.result)
        log.info("%s spoken \"%s\"", notice.kind, notice.text)
        if self.transcript is not None:
            self.transcript.write({"workoutTime": workout_time, "trigger": notice.kind,
                                   "status": "spoken", "reason": None, "persona": persona,
                                   "text": notice.text, "cacheHit": spoken.cache_hit})

    async def close(self) -> None:
        """Prepare nothing more; wait for the line being synthesized (it uses the store)."""
        self._unvoiced = []
        if self._speculation:
            await asyncio.gather(self._speculation, return_exceptions=True)

    def _record(self, outcome: Outcome, workout_time: float | None) -> None:
        event = outcome.event
        text = outcome.response.text_content if outcome.response else None
        log.info("%s %s %s%s", event.trigger_id, outcome.status,
                 f'"{text}"' if text else "", f" ({outcome.reason})" if outcome.reason else "")
        if self.transcript is None:
            return
        entry: dict[str, Any] = {
            "workoutTime": workout_time, "trigger": event.trigger_id, "eventId": event.id,
            "status": outcome.status, "reason": outcome.reason, "tags": list(outcome.tags),
            "text": text, "persona": outcome.response.persona_id if outcome.response else None,
            "context": event.context.model_dump(mode="json", by_alias=True,
                                                exclude_defaults=True),
        }
        if outcome.response:
            entry |= {"toast": outcome.response.toast_message,
                      "responseId": outcome.response.id,
                      "cacheHit": outcome.spoken.cache_hit if outcome.spoken else None,
                      "readyMs": round(outcome.ready_ms, 2),
                      "prepared": outcome.prepared}
        self.transcript.write(entry)
