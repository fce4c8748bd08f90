"""Workout events: what every source (BLE, API, recording) produces."""

import time
import uuid
from typing import Annotated

from pydantic import Field, field_validator

from edgecoach.contract.base import CamelModel
from edgecoach.contract.vocabulary import (
    HEART_RATE_MAX,
    HEART_RATE_MIN,
    EventSource,
    TriggerId,
)
from edgecoach.safe_text import safe_text

HeartRate = Annotated[int, Field(ge=HEART_RATE_MIN, le=HEART_RATE_MAX)]


class WorkoutContext(CamelModel):
    """What is known about the moment; every number the coach says comes from here.

    The seed's fields come first; the rest are what replay and the policy add
    (set number, rest, lap duration, totals, heart-rate zone bounds).
    """

    exercise: str | None = Field(default=None, min_length=1, max_length=64)
    reps: int | None = Field(default=None, ge=1, le=1000)
    weight: float | None = Field(default=None, ge=0, le=1000)
    strain: float | None = Field(default=None, ge=0, le=100)
    heart_rate: HeartRate | None = None
    sleep_hours: float | None = Field(default=None, ge=0, le=24)
    set_number: int | None = Field(default=None, ge=1, le=1000)
    total_sets: int | None = Field(default=None, ge=0, le=10000)
    rest_seconds: int | None = Field(default=None, ge=0, le=3600)
    duration_seconds: float | None = Field(default=None, ge=0, le=86400)
    volume: float | None = Field(default=None, ge=0, le=1_000_000)
    peak_heart_rate: HeartRate | None = None
    zone_low: HeartRate | None = None
    zone_high: HeartRate | None = None
    personal_best: bool = False
    last_set: bool = False

    @field_validator("exercise")
    @classmethod
    def _printable_exercise(cls, exercise: str | None) -> str | None:
        # Said, shown in a toast and printed on terminals: control characters are dropped.
        return safe_text(exercise) or None if exercise is not None else None

    def biometric_free(self) -> "WorkoutContext":
        """A copy without heart rate, strain and sleep (for `excludeBiometrics`)."""
        return self.model_copy(
            update={
                "heart_rate": None,
                "peak_heart_rate": None,
                "strain": None,
                "sleep_hours": None,
                "zone_low": None,
                "zone_high": None,
            }
        )


class DeviceState(CamelModel):
    has_earbuds: bool = False
    audio_enabled: bool = True
    platform: str = Field(default="linux", max_length=32)


class WorkoutEvent(CamelModel):
    """One validated event on the daemon's queue."""

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), min_length=1, max_length=64)
    trigger_id: TriggerId
    user_id: str = Field(min_length=1, max_length=128)
    context: WorkoutContext = Field(default_factory=WorkoutContext)
    device_state: DeviceState | None = None
    timestamp: float = Field(default_factory=time.time, ge=0)
    source: EventSource = "api"
