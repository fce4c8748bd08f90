"""The talk budget: how much the coach may say to one athlete, learned from what they ask.

Three levels of chattiness set the least time between any two lines and the lowest
trigger priority that may speak at all. "less talk" / "more talk" move one level.
Ratings per trigger (helpful or not) set how often that trigger speaks, by a
Beta-Bernoulli rule with a uniform prior:

    weight       = (helpful + 1) / (helpful + not_helpful + 2)
    speak chance = min(1, 2 * weight)

so an unrated trigger always speaks, five "not helpful" in a row leave it a 29 % chance
and ten leave 17 %; "helpful" ratings bring it back. The draw uses a seed from the
caller, so a replayed workout makes the same decisions. Triggers of priority
ALWAYS_PRIORITY and above (onboarding, workout-end) are never held back.

State lives in SQLite (tables `coaching_state`, `trigger_ratings`) and every change of
a preference (chattiness, rating) queues a `coaching_state` outbox item whose recordId
is the user id; the sync builds its payload from `TalkBudget.state()` at send time.
The time of the last spoken line is working state and is not sent. Every method does
blocking SQLite work: call it from a worker thread.
"""

import random
from dataclasses import dataclass
from typing import Any, Literal, get_args

from edgecoach.contract.vocabulary import TRIGGER_IDS
from edgecoach.errors import UserErased, ValidationFailed
from edgecoach.store.database import Database
from edgecoach.store.erasures import is_erased
from edgecoach.store.outbox import enqueue

Chattiness = Literal["quiet", "normal", "chatty"]
CHATTINESS_LEVELS: tuple[str, ...] = get_args(Chattiness)  # from least to most talk
DEFAULT_CHATTINESS: Chattiness = "normal"
# Triggers at or above this priority always speak (the summary, and the onboarding that
# tells the athlete how to give feedback).
ALWAYS_PRIORITY = 9


@dataclass(frozen=True)
class TalkLevel:
    """What one chattiness level allows."""

    min_gap_seconds: float
    priority_floor: int


LEVELS: dict[str, TalkLevel] = {
    "quiet": TalkLevel(min_gap_seconds=120.0, priority_floor=7),
    "normal": TalkLevel(min_gap_seconds=30.0, priority_floor=4),
    "chatty": TalkLevel(min_gap_seconds=10.0, priority_floor=1),
}


def speak_chance(helpful: int, not_helpful: int) -> float:
    """The probability that a trigger with these ratings speaks (see the module doc)."""
    return min(1.0, 2 * (helpful + 1) / (helpful + not_helpful + 2))


def _check_user(user_id: str) -> None:
    if not user_id or len(user_id) > 128:
        raise ValidationFailed("userId", "must be 1-128 characters")


def _check_trigger(trigger_id: str) -> None:
    if trigger_id not in TRIGGER_IDS:
        raise ValidationFailed("triggerId", f"unknown trigger {trigger_id!r}")


class TalkBudget:
    """Per-user chattiness and learned trigger ratings, stored in the database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def allows(self, user_id: str, trigger_id: str, priority: int, now: float,
               seed: int | str) -> tuple[bool, str | None]:
        """Whether a line of this trigger may be spoken now; when not, the reason."""
        if priority >= ALWAYS_PRIORITY:
            return True, None
        chattiness, last_spoken = self._row(user_id)
        level = LEVELS[chattiness]
        if priority < level.priority_floor:
            return False, (f"talk budget: {chattiness} speaks priority >= "
                           f"{level.priority_floor} only ({trigger_id} is {priority})")
        # A clock that went back (a replay of an older recording) is not a recent line.
        if last_spoken is not None and 0 <= now - last_spoken < level.min_gap_seconds:
            return False, f"talk budget: {chattiness} gap {level.min_gap_seconds:g} s"
        helpful, not_helpful = self._ratings(user_id).get(trigger_id, (0, 0))
        chance = speak_chance(helpful, not_helpful)
        if chance < 1.0:
            draw = random.Random(f"{seed}|{user_id}|{trigger_id}").random()
            if draw >= chance:
                return False, (f"talk budget: {trigger_id} muted by ratings "
                               f"(speak chance {chance:.0%})")
        return True, None

    def record_spoken(self, user_id: str, now: float) -> None:
        """A line was spoken at `now`: the gap counts from here."""
        _check_user(user_id)
        with self.database.transaction() as db:
            if is_erased(db, user_id):
                return
            db.execute(
                "insert into coaching_state (userId, chattiness, lastSpokenAt, updatedAt) "
                "values (?, ?, ?, ?) on conflict(userId) do update set lastSpokenAt = "
                "excluded.lastSpokenAt",
                [user_id, DEFAULT_CHATTINESS, now, self.database.clock()])

    def rate(self, user_id: str, trigger_id: str, helpful: bool) -> float:
        """Count one rating of a line of this trigger; returns its new speak chance."""
        _check_user(user_id)
        _check_trigger(trigger_id)
        now = self.database.clock()
        column = "helpful" if helpful else "notHelpful"
        with self.database.transaction() as db:
            if is_erased(db, user_id):
                raise UserErased(f"user {user_id} was erased")
            db.execute(
                "insert into trigger_ratings (userId, triggerId, helpful, notHelpful, updatedAt) "
                "values (?, ?, 0, 0, ?) on conflict(userId, triggerId) do nothing",
                [user_id, trigger_id, now])
            db.execute(
                f"update trigger_ratings set {column} = {column} + 1, updatedAt = ? "
                "where userId = ? and triggerId = ?", [now, user_id, trigger_id])
            counts = db.execute(
                "select helpful, notHelpful from trigger_ratings where userId = ? and "
                "triggerId = ?", [user_id, trigger_id]).fetchone()
            enqueue(db, user_id=user_id, kind="coaching_state", record_id=user_id, now=now)
        return speak_chance(*counts)

    def unrate(self, user_id: str, trigger_id: str, helpful: bool) -> None:
        """Take back one rating (a line rated again: its last rating wins)."""
        column = "helpful" if helpful else "notHelpful"
        with self.database.transaction() as db:
            db.execute(
                f"update trigger_ratings set {column} = max(0, {column} - 1), updatedAt = ? "
                "where userId = ? and triggerId = ?",
                [self.database.clock(), user_id, trigger_id])

    def set_chattiness(self, user_id: str, chattiness: str) -> str:
        """Set the level (quiet, normal, chatty); returns it."""
        _check_user(user_id)
        if chattiness not in LEVELS:
            raise ValidationFailed("chattiness", f"must be one of {', '.join(CHATTINESS_LEVELS)}")
        now = self.database.clock()
        with self.database.transaction() as db:
            if is_erased(db, user_id):
                raise UserErased(f"user {user_id} was erased; store a new subscription first")
            db.execute(
                "insert into coaching_state (userId, chattiness, lastSpokenAt, updatedAt) "
                "values (?, ?, null, ?) on conflict(userId) do update set "
                "chattiness = excluded.chattiness, updatedAt = excluded.updatedAt",
                [user_id, chattiness, now])
            enqueue(db, user_id=user_id, kind="coaching_state", record_id=user_id, now=now)
        return chattiness

    def nudge(self, user_id: str, direction: str) -> str:
        """"less" or "more" talk: one level down or up (stays at the ends); the new level."""
        if direction not in ("less", "more"):
            raise ValidationFailed("direction", "must be 'less' or 'more'")
        current = CHATTINESS_LEVELS.index(self._row(user_id)[0])
        step = -1 if direction == "less" else 1
        target = CHATTINESS_LEVELS[min(len(CHATTINESS_LEVELS) - 1, max(0, current + step))]
        return self.set_chattiness(user_id, target)

    def state(self, user_id: str) -> dict[str, Any]:
        """JSON-ready camelCase state for `edgecoach status` and the upstream payload."""
        with self.database.reading() as db:
            row = db.execute("select chattiness, lastSpokenAt, updatedAt from coaching_state "
                             "where userId = ?", [user_id]).fetchone()
        chattiness, last_spoken, updated = row or (DEFAULT_CHATTINESS, None, None)
        level = LEVELS[chattiness]
        return {
            "userId": user_id,
            "chattiness": chattiness,
            "minGapSeconds": level.min_gap_seconds,
            "priorityFloor": level.priority_floor,
            "lastSpokenAt": last_spoken,
            "updatedAt": updated,
            "triggers": {
                trigger: {"helpful": helpful, "notHelpful": not_helpful,
                          "speakChance": round(speak_chance(helpful, not_helpful), 4)}
                for trigger, (helpful, not_helpful) in sorted(self._ratings(user_id).items())
            },
        }

    def _row(self, user_id: str) -> tuple[str, float | None]:
        with self.database.reading() as db:
            row = db.execute("select chattiness, lastSpokenAt from coaching_state "
                             "where userId = ?", [user_id]).fetchone()
        return (row[0], row[1]) if row else (DEFAULT_CHATTINESS, None)

    def _ratings(self, user_id: str) -> dict[str, tuple[int, int]]:
        with self.database.reading() as db:
            rows = db.execute("select triggerId, helpful, notHelpful from trigger_ratings "
                              "where userId = ?", [user_id]).fetchall()
        return {trigger: (helpful, not_helpful) for trigger, helpful, not_helpful in rows}
