"""Heart-rate zone cues: when the smoothed heart rate stays out of the target zone, say so.

The target zone comes from the athlete's settings (docs/coaching-manners.md explains
every constant below):

- maximum heart rate: the setting, else Tanaka's 208 - 0.7 * age, else 190 bpm (the
  same rule as the strain meter);
- Karvonen (a fraction of the heart-rate reserve above the resting heart rate) when the
  resting heart rate is known, else a fraction of the maximum.

A cue fires only when the smoothed heart rate has been out of the zone for HOLD_SECONDS,
never in the grace period after the workout start or a phase change, never less than
MIN_GAP_SECONDS after the previous zone cue, and while the same excursion lasts, again
only every REMIND_SECONDS. The excursion ends (hysteresis) when the smoothed heart rate
comes back inside the zone by REENTRY_MARGIN_BPM.
"""

import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from edgecoach.contract import WorkoutContext
from edgecoach.contract.vocabulary import HEART_RATE_MAX, HEART_RATE_MIN
from edgecoach.settings import AthleteSettings
from edgecoach.sources.strain import max_heart_rate

log = logging.getLogger(__name__)

# Smoothing: a trimmed mean of the readings of the last WINDOW_SECONDS.
WINDOW_SECONDS = 15.0
TRIM_FRACTION = 0.2
# Decision timing.
HOLD_SECONDS = 25.0
REENTRY_MARGIN_BPM = 3
GRACE_SECONDS = 120.0
MIN_GAP_SECONDS = 90.0
REMIND_SECONDS = 180.0
# A gap this long between readings means the strap dropped out: the excursion is forgotten.
DROPOUT_SECONDS = 15.0

Phase = Literal["warmup", "work", "cooldown"]
Direction = Literal["above-zone", "below-zone"]
ZoneMethod = Literal["karvonen", "percent-max", "fixed"]


@dataclass(frozen=True)
class ZoneBounds:
    """A target zone as fractions: of the heart-rate reserve (Karvonen) and of the maximum.

    Both are given because which one applies depends on whether the athlete's resting
    heart rate is known.
    """

    reserve: tuple[float, float]
    maximum: tuple[float, float]

    def __post_init__(self) -> None:
        for low, high in (self.reserve, self.maximum):
            if not 0 <= low < high <= 1:
                raise ValueError(f"zone fractions must satisfy 0 <= low < high <= 1: {low}, {high}")


@dataclass(frozen=True)
class HeartRateZone:
    """A target zone in bpm, and how it was computed (for logs and `edgecoach status`)."""

    low: int
    high: int
    method: ZoneMethod = "fixed"

    def __post_init__(self) -> None:
        if not HEART_RATE_MIN <= self.low < self.high <= HEART_RATE_MAX:
            raise ValueError(f"zone must satisfy {HEART_RATE_MIN} <= low < high <= "
                             f"{HEART_RATE_MAX}: {self.low}-{self.high}")


DEFAULT_ZONES: dict[str, ZoneBounds] = {
    "warmup": ZoneBounds(reserve=(0.40, 0.60), maximum=(0.55, 0.70)),
    "work": ZoneBounds(reserve=(0.60, 0.80), maximum=(0.65, 0.85)),
    "cooldown": ZoneBounds(reserve=(0.30, 0.50), maximum=(0.50, 0.65)),
}


def target_zone(athlete: AthleteSettings, bounds: ZoneBounds) -> HeartRateZone:
    """The zone in bpm for this athlete: Karvonen when the resting heart rate is known."""
    hr_max = max_heart_rate(athlete)
    resting = athlete.resting_heart_rate
    if resting is not None and resting < hr_max:
        low, high = (resting + f * (hr_max - resting) for f in bounds.reserve)
        method: ZoneMethod = "karvonen"
    else:
        low, high = (f * hr_max for f in bounds.maximum)
        method = "percent-max"
    low_bpm = max(HEART_RATE_MIN, round(low))
    return HeartRateZone(low_bpm, max(low_bpm + 1, round(high)), method)


@dataclass(frozen=True)
class ZoneCueTuning:
    """The detector's timing and smoothing; defaults are the documented constants."""

    window_seconds: float = WINDOW_SECONDS
    trim_fraction: float = TRIM_FRACTION
    hold_seconds: float = HOLD_SECONDS
    reentry_margin_bpm: int = REENTRY_MARGIN_BPM
    grace_seconds: float = GRACE_SECONDS
    min_gap_seconds: float = MIN_GAP_SECONDS
    remind_seconds: float = REMIND_SECONDS
    dropout_seconds: float = DROPOUT_SECONDS


@dataclass(frozen=True)
class ZoneCue:
    """An `hr-zone` cue: which way the athlete is out, the smoothed heart rate, the zone."""

    direction: Direction
    heart_rate: int
    zone_low: int
    zone_high: int
    timestamp: float
    phase: str

    def context(self) -> WorkoutContext:
        """The WorkoutContext of the `hr-zone` WorkoutEvent."""
        return WorkoutContext(heart_rate=self.heart_rate, zone_low=self.zone_low,
                              zone_high=self.zone_high)


class TrimmedMean:
    """Mean of the readings of the last `window` seconds without the highest and lowest.

    With 3 or more readings at least one is dropped from each end, so a single-beat
    spike (or a strap glitch) never moves the value; with fewer there is nothing to
    trim and the hold time alone protects against a glitch.
    """

    def __init__(self, window: float, trim: float) -> None:
        self.window = window
        self.trim = trim
        self._readings: deque[tuple[float, int]] = deque()

    def add(self, bpm: int, t: float) -> None:
        self._readings.append((t, bpm))
        while self._readings and self._readings[0][0] <= t - self.window:
            self._readings.popleft()

    def clear(self) -> None:
        self._readings.clear()

    def value(self) -> float | None:
        values = sorted(bpm for _, bpm in self._readings)
        if not values:
            return None
        cut = max(1, int(len(values) * self.trim)) if len(values) >= 3 else 0
        kept = values[cut:len(values) - cut]
        return sum(kept) / len(kept)


@dataclass
class _Excursion:
    direction: Direction
    since: float
    last_cue: float | None = None


class ZoneCueDetector:
    """Feed heart-rate samples in time order; `feed` returns a ZoneCue when one is due.

    `zones` maps a phase to fractions (ZoneBounds) or to a fixed zone in bpm
    (HeartRateZone, e.g. set by a coach); missing phases use DEFAULT_ZONES. The phase is
    "work" until `set_phase` says otherwise. `start` is the workout start (default: the
    first sample). Not thread-safe; one detector per workout.
    """

    def __init__(self, athlete: AthleteSettings,
                 zones: Mapping[str, ZoneBounds | HeartRateZone] | None = None, *,
                 phase: Phase = "work", start: float | None = None,
                 tuning: ZoneCueTuning | None = None) -> None:
        self.tuning = tuning or ZoneCueTuning()
        merged = {**DEFAULT_ZONES, **(zones or {})}
        self.zones: dict[str, HeartRateZone] = {
            name: bounds if isinstance(bounds, HeartRateZone) else target_zone(athlete, bounds)
            for name, bounds in merged.items()}
        if phase not in self.zones:
            raise ValueError(f"unknown phase {phase!r}; known: {sorted(self.zones)}")
        self.phase: str = phase
        self._smoother = TrimmedMean(self.tuning.window_seconds, self.tuning.trim_fraction)
        self._smoothed: int | None = None
        self._grace_until = None if start is None else start + self.tuning.grace_seconds
        self._last_time: float | None = None
        self._last_cue: float | None = None
        self._excursion: _Excursion | None = None
        log.debug("heart-rate zones: %s", self.zones)

    @property
    def zone(self) -> HeartRateZone:
        """The target zone of the current phase."""
        return self.zones[self.phase]

    @property
    def smoothed(self) -> int | None:
        """The smoothed heart rate (bpm), or None before the first reading or after a dropout."""
        return self._smoothed

    def set_phase(self, phase: str, t: float) -> None:
        """Switch zone; the heart rate needs time to follow, so a new grace period starts."""
        if phase not in self.zones:
            raise ValueError(f"unknown phase {phase!r}; known: {sorted(self.zones)}")
        self.phase = phase
        self._excursion = None
        self._grace_until = t + self.tuning.grace_seconds

    def feed(self, bpm: int, t: float) -> ZoneCue | None:
        """Add a reading (bpm, seconds); the cue to speak now, if any."""
        if not HEART_RATE_MIN <= bpm <= HEART_RATE_MAX:
            return None  # a strap without skin contact sends 0: not a heart rate
        if self._last_time is not None and t < self._last_time:
            return None
        if self._grace_until is None:
            self._grace_until = t + self.tuning.grace_seconds
        if self._last_time is not None and t - self._last_time > self.tuning.dropout_seconds:
            self._smoother.clear()
            self._excursion = None
        self._last_time = t
        self._smoother.add(bpm, t)
        mean = self._smoother.value()
        self._smoothed = None if mean is None else round(mean)
        if self._smoothed is None or t < self._grace_until:
            self._excursion = None
            return None
        return self._decide(self._smoothed, t)

    def _decide(self, hr: int, t: float) -> ZoneCue | None:
        zone, tuning = self.zone, self.tuning
        side: Direction | None = (
            "above-zone" if hr > zone.high else "below-zone" if hr < zone.low else None)
        excursion = self._excursion
        margin = tuning.reentry_margin_bpm
        back_inside = excursion is not None and (
            hr <= zone.high - margin if excursion.direction == "above-zone"
            else hr >= zone.low + margin)
        if excursion is not None and (back_inside or side not in (None, excursion.direction)):
            excursion = self._excursion = None
        if excursion is None and side is not None:
            excursion = self._excursion = _Excursion(side, since=t)
        # Inside the hysteresis band the excursion lives on, but nothing is said.
        if excursion is None or side != excursion.direction:
            return None
        due = (excursion.since + tuning.hold_seconds if excursion.last_cue is None
               else excursion.last_cue + tuning.remind_seconds)
        if t < due or (self._last_cue is not None and t - self._last_cue < tuning.min_gap_seconds):
            return None
        excursion.last_cue = self._last_cue = t
        return ZoneCue(side, hr, zone.low, zone.high, t, self.phase)
