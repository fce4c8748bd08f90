"""Hourly per-tier limits and the user's daily cap, persisted so a restart resets nothing.

A window is a row (userId, requestType, windowSize, windowStart) whose count only goes up.
Checking and counting is one small transaction; a denial is recorded with its reason.
"""

import datetime as dt
from dataclasses import dataclass

import sqlite_utils

from edgecoach.contract.vocabulary import RequestType, SubscriptionType
from edgecoach.store.database import Database
from edgecoach.store.erasures import is_erased

HOUR = 3600
DAY = 86400

# Requests per hour, by tier and request type (DESIGN section 2).
HOURLY_LIMITS: dict[str, dict[str, int]] = {
    "free": {"coaching_trigger": 50, "tts_generation": 20},
    "pro": {"coaching_trigger": 200, "tts_generation": 100},
    "trainer": {"coaching_trigger": 1000, "tts_generation": 500},
}
REMAINING_KEYS = {"coaching_trigger": "coachingPerHour", "tts_generation": "ttsPerHour"}
# The rate_limits rows of the whole device: no user id is empty (the contract says 1-128).
DEVICE = ""


@dataclass(frozen=True)
class LimitDecision:
    allowed: bool
    reason: str | None = None


def hour_start(now: float) -> float:
    return now - now % HOUR


def local_day_start(now: float) -> float:
    """Midnight of the athlete's local day: a daily cap follows the day they live in."""
    local = dt.datetime.fromtimestamp(now).astimezone()
    return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def _window_count(
    db: sqlite_utils.Database, user_id: str, request_type: str, size: int, start: float
) -> int:
    row = db.execute(
        "select requestCount from rate_limits where userId = ? and requestType = ? "
        "and windowSize = ? and windowStart = ?", [user_id, request_type, size, start]
    ).fetchone()
    return row[0] if row else 0


def _count(
    db: sqlite_utils.Database, user_id: str, request_type: str, size: int, start: float,
    maximum: int,
) -> None:
    db.execute(
        "insert into rate_limits (userId, requestType, windowSize, windowStart, requestCount, "
        "maxRequests) values (?, ?, ?, ?, 1, ?) on conflict do update set "
        "requestCount = requestCount + 1, maxRequests = excluded.maxRequests",
        [user_id, request_type, size, start, maximum],
    )


class Limits:
    def __init__(self, database: Database) -> None:
        self.database = database
        # The device's owner (the daemon's athlete): when set, every user together stays
        # within the owner's hourly tier, so new user ids bring no fresh quota.
        self.device_owner: str | None = None

    def _device_denial(self, db: sqlite_utils.Database, request_type: str,
                       hour: float) -> tuple[str | None, int]:
        """Why the device as a whole may not make this request now, and its hourly max."""
        if self.device_owner is None:
            return None, 0
        row = db.execute("select subscriptionType from subscriptions where userId = ?",
                         [self.device_owner]).fetchone()
        tier = row[0] if row else "free"
        maximum = HOURLY_LIMITS[tier][request_type]
        if _window_count(db, DEVICE, request_type, HOUR, hour) >= maximum:
            return (f"device-wide hourly {request_type} limit of {maximum} reached (the "
                    f"owner's {tier} tier, shared by every user)"), maximum
        return None, maximum

    def try_acquire(
        self,
        user_id: str,
        request_type: RequestType,
        tier: SubscriptionType,
        max_daily_coaching: int,
        event_id: str | None = None,
    ) -> LimitDecision:
        """Count one request if every window has room; otherwise record why it was denied."""
        now = self.database.clock()
        hourly_max = HOURLY_LIMITS[tier][request_type]
        hour = hour_start(now)
        day = local_day_start(now)
        with self.database.transaction() as db:
            if is_erased(db, user_id):
                return LimitDecision(False, "user erased")  # no row brings the user back
            reason = None
            if _window_count(db, user_id, request_type, HOUR, hour) >= hourly_max:
                reason = f"hourly {request_type} limit of {hourly_max} reached ({tier} tier)"
            elif request_type == "coaching_trigger" and _window_count(
                db, user_id, request_type, DAY, day
            ) >= max_daily_coaching:
                reason = f"daily coaching limit of {max_daily_coaching} reached"
            device_reason, device_max = self._device_denial(db, request_type, hour)
            reason = reason or device_reason
            if reason:
                db.table("limit_denials").insert(
                    {"userId": user_id, "requestType": request_type, "reason": reason,
                     "eventId": event_id, "createdAt": now})
                return LimitDecision(False, reason)
            _count(db, user_id, request_type, HOUR, hour, hourly_max)
            if self.device_owner is not None:
                _count(db, DEVICE, request_type, HOUR, hour, device_max)
            if request_type == "coaching_trigger":
                _count(db, user_id, request_type, DAY, day, max_daily_coaching)
        return LimitDecision(True)

    def remaining(
        self, user_id: str, tier: SubscriptionType, max_daily_coaching: int
    ) -> dict[str, int]:
        """What is left in the current hour (per type) and today (coaching)."""
        now = self.database.clock()
        with self.database.reading() as db:
            left = {
                REMAINING_KEYS[request_type]: max(
                    0, maximum - _window_count(db, user_id, request_type, HOUR, hour_start(now))
                )
                for request_type, maximum in HOURLY_LIMITS[tier].items()
            }
            used_today = _window_count(
                db, user_id, "coaching_trigger", DAY, local_day_start(now))
        left["coachingToday"] = max(0, max_daily_coaching - used_today)
        return left

    def denials(self, user_id: str) -> list[dict]:
        with self.database.reading() as db:
            return list(db.query(
                "select * from limit_denials where userId = ? order by id", [user_id]))
