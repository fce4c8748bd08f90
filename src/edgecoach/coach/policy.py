"""Whether to speak for an event, and about what: the coaching policy.

`decide` runs a list of gates in order; the first that says no gives the reason the
event is suppressed. The rate limit is the last gate, so a line a gate suppresses costs
no quota. A yes is charged at once (quota, cooldown, talk gap), and stays charged when
the pipeline then holds the line back (TTS limit, earcon instead of a late line):
docs/coach.md, "What a line costs". New gates (a talk budget, chattiness) slot into
`_gates` without touching the rest.
"""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from edgecoach.catalog import Catalog
from edgecoach.coach.seeds import content_seed
from edgecoach.coach.tags import situation_tags
from edgecoach.contract import Subscription, Trigger, WorkoutEvent
from edgecoach.contract.vocabulary import TIER_RANK
from edgecoach.session.talk_budget import TalkBudget
from edgecoach.settings import AthleteSettings, StrainSettings
from edgecoach.store.limits import Limits

log = logging.getLogger(__name__)

Clock = Callable[[], float]


@dataclass(frozen=True)
class Decision:
    """speak, or not and why; the situation tags the line should be written for."""

    speak: bool
    reason: str | None = None
    tags: list[str] = field(default_factory=list)
    priority: int = 0


Gate = Callable[[WorkoutEvent, Trigger, Subscription, bool, list[str]], str | None]


class CoachPolicy:
    """Trigger conditions, required context, per-trigger cooldown, then the hourly/daily limits.

    Blocking (the limit check writes SQLite): call it from a worker thread.
    """

    def __init__(
        self,
        catalog: Catalog,
        limits: Limits,
        athlete: AthleteSettings | None = None,
        strain: StrainSettings | None = None,
        talk_budget: TalkBudget | None = None,
    ) -> None:
        self.catalog = catalog
        self.limits = limits
        self.athlete = athlete or AthleteSettings()
        self.strain = strain or StrainSettings()
        self.talk_budget = talk_budget
        self._last_spoken: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()
        self._gates: list[Gate] = [
            self._voice_access, self._device, self._tier, self._phase, self._context,
            self._situation, self._cooldown, self._talk,
        ]

    def tags_for(self, event: WorkoutEvent) -> list[str]:
        """The situation tags of an event (no gate, no quota)."""
        return situation_tags(event.trigger_id, event.context, self.athlete, self.strain)

    def decide(self, event: WorkoutEvent, subscription: Subscription,
               has_earbuds: bool) -> Decision:
        trigger = self.catalog.trigger(event.trigger_id)
        tags = self.tags_for(event)
        with self._lock:  # cooldown check and start are one step across worker threads
            for gate in self._gates:
                reason = gate(event, trigger, subscription, has_earbuds, tags)
                if reason:
                    log.debug("event %s suppressed: %s", event.id, reason)
                    return Decision(False, reason, tags, trigger.priority)
            prefs = subscription.device_preferences
            allowed = self.limits.try_acquire(
                event.user_id, "coaching_trigger", subscription.subscription_type,
                prefs.max_daily_coaching, event.id)
            if not allowed.allowed:
                return Decision(False, allowed.reason, tags, trigger.priority)
            self._last_spoken[(event.user_id, trigger.id)] = event.timestamp
            if self.talk_budget is not None:
                self.talk_budget.record_spoken(event.user_id, event.timestamp)
        return Decision(True, None, tags, trigger.priority)

    # Gates: each returns the reason to stay silent, or None.

    def _voice_access(self, event, trigger, subscription, has_earbuds, tags) -> str | None:
        return None if subscription.voice_access else "voice access is off for this user"

    def _device(self, event, trigger, subscription, has_earbuds, tags) -> str | None:
        if trigger.conditions.device_required == "earbuds" and not has_earbuds:
            return f"{trigger.id} needs earbuds connected"
        if not has_earbuds and not subscription.device_preferences.fallback_to_speaker:
            return "earbuds only (fallbackToSpeaker is off) and none are connected"
        return None

    def _tier(self, event, trigger, subscription, has_earbuds, tags) -> str | None:
        needed = trigger.conditions.subscription_level
        if TIER_RANK[subscription.subscription_type] < TIER_RANK[needed]:
            return f"{trigger.id} needs a {needed} subscription"
        return None

    def _phase(self, event, trigger, subscription, has_earbuds, tags) -> str | None:
        if subscription.training_phase not in trigger.conditions.training_phase:
            return f"{trigger.id} is off in the {subscription.training_phase} phase"
        return None

    def _context(self, event, trigger, subscription, has_earbuds, tags) -> str | None:
        known = event.context.model_dump(by_alias=True, exclude_none=True)
        missing = [name for name in trigger.required_context if name not in known]
        return f"context lacks {', '.join(missing)}" if missing else None

    def _situation(self, event, trigger, subscription, has_earbuds, tags) -> str | None:
        if trigger.id == "hr-zone" and not {"above-zone", "below-zone"} & set(tags):
            return "heart rate is within the target zone"
        return None

    def _cooldown(self, event, trigger, subscription, has_earbuds, tags) -> str | None:
        last = self._last_spoken.get((event.user_id, trigger.id))
        if last is None or trigger.cooldown_seconds <= 0:
            return None
        # Event time, not the wall clock: a replayed workout cools down in workout time.
        left = trigger.cooldown_seconds - (event.timestamp - last)
        return f"{trigger.id} cooling down ({left:.0f} s left)" if left > 0 else None

    def _talk(self, event, trigger, subscription, has_earbuds, tags) -> str | None:
        if self.talk_budget is None:
            return None
        _, reason = self.talk_budget.allows(
            event.user_id, trigger.id, trigger.priority, event.timestamp,
            seed=content_seed(event.user_id, trigger.id, event.context))
        return reason
