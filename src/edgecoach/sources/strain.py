"""Running strain score (0-100) from heart rate: Banister's TRIMP on heart-rate reserve.

For each interval dt between two samples (minutes, gaps capped at MAX_GAP_SECONDS so a
dropped strap does not count as effort):

    HRr   = clamp((HR - HR_rest) / (HR_max - HR_rest), 0, 1)     heart-rate reserve
    TRIMP += dt * HRr * TRIMP_WEIGHT * exp(TRIMP_EXPONENT * HRr)

with Banister's constants 0.64 and 1.92 (Banister 1991; the constants of the male
curve, used for everyone: the athlete's sex is not a setting). TRIMP grows without
bound, so it is mapped to a 0-100 score that saturates like a wearable's strain:

    strain = 100 * (1 - exp(-TRIMP / scale))      scale = 75 by default

An hour at 70 % of heart-rate reserve (TRIMP ~103) gives ~75; an easy 30 minutes at
50 % (TRIMP ~25) gives ~28. HR_rest and HR_max come from the athlete's settings:
resting 60 bpm and max 208 - 0.7 * age (Tanaka) or 190 bpm when not set.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from edgecoach.settings import AthleteSettings, StrainSettings

TRIMP_WEIGHT = 0.64
TRIMP_EXPONENT = 1.92
DEFAULT_RESTING_HR = 60
DEFAULT_MAX_HR = 190
MAX_GAP_SECONDS = 30.0
# Bands (low/mid/high/peak at 25/50/75/90) and scale (75) default in StrainSettings.
DEFAULTS = StrainSettings()


def max_heart_rate(athlete: AthleteSettings) -> int:
    """The configured maximum, else Tanaka's 208 - 0.7 * age, else DEFAULT_MAX_HR."""
    if athlete.max_heart_rate:
        return athlete.max_heart_rate
    if athlete.age:
        return round(208 - 0.7 * athlete.age)
    return DEFAULT_MAX_HR


@dataclass
class StrainMeter:
    """Feed heart-rate samples in time order; `feed` returns a band name when one is crossed.

    Each band fires at most once per workout (strain never decreases, and a band passed
    while a higher one is crossed in the same step counts as fired).
    """

    resting_hr: int = DEFAULT_RESTING_HR
    max_hr: int = DEFAULT_MAX_HR
    bands: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULTS.bands))
    scale: float = DEFAULTS.scale
    trimp: float = field(default=0.0, init=False)
    fired: set[str] = field(default_factory=set, init=False)
    _last_time: float | None = field(default=None, init=False, repr=False)
    _last_bpm: int | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_hr <= self.resting_hr:
            raise ValueError("max heart rate must be above resting heart rate")
        self.bands = dict(sorted(self.bands.items(), key=lambda item: item[1]))

    @classmethod
    def from_settings(cls, athlete: AthleteSettings,
                      strain: StrainSettings | None = None) -> "StrainMeter":
        strain = strain or StrainSettings()
        resting = athlete.resting_heart_rate or DEFAULT_RESTING_HR
        return cls(resting_hr=resting, max_hr=max(max_heart_rate(athlete), resting + 1),
                   bands=dict(strain.bands), scale=strain.scale)

    @property
    def strain(self) -> float:
        return 100.0 * (1.0 - math.exp(-self.trimp / self.scale))

    @property
    def band(self) -> str | None:
        """The highest band the strain has reached, or None below the first."""
        reached = [name for name, threshold in self.bands.items() if self.strain >= threshold]
        return reached[-1] if reached else None

    def reserve(self, bpm: float) -> float:
        return min(1.0, max(0.0, (bpm - self.resting_hr) / (self.max_hr - self.resting_hr)))

    def feed(self, bpm: int, timestamp: float) -> str | None:
        """Add a sample; the name of the highest band newly crossed, if any."""
        if self._last_time is not None and self._last_bpm is not None:
            dt = min(max(0.0, timestamp - self._last_time), MAX_GAP_SECONDS) / 60.0
            # Trapezoid on the reserve: the effort between two samples is their mean.
            hrr = self.reserve((bpm + self._last_bpm) / 2)
            self.trimp += dt * hrr * TRIMP_WEIGHT * math.exp(TRIMP_EXPONENT * hrr)
        if self._last_time is None or timestamp >= self._last_time:
            self._last_time, self._last_bpm = timestamp, bpm
        return self._newly_crossed()

    def _newly_crossed(self) -> str | None:
        crossed = None
        for name, threshold in self.bands.items():
            if self.strain >= threshold and name not in self.fired:
                self.fired.add(name)
                crossed = name
        return crossed
