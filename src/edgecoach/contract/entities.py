"""The seed schema's entities (personas, triggers, responses, subscriptions, ...)."""

import time
import uuid
from typing import Any

from pydantic import AliasChoices, Field, field_validator

from edgecoach.contract.base import CamelModel
from edgecoach.contract.events import DeviceState, WorkoutContext
from edgecoach.contract.vocabulary import (
    DeviceRequirement,
    PersonaId,
    RequestType,
    SubscriptionType,
    TrainingPhase,
    TriggerId,
)
from edgecoach.privacy import sanitize_text

Unit = Field(ge=0, le=1)


def new_id() -> str:
    return str(uuid.uuid4())


class Personality(CamelModel):
    enthusiasm: float = Unit
    supportiveness: float = Unit
    directness: float = Unit


class VoiceSettings(CamelModel):
    """Which Piper voice speaks for a persona, and how."""

    model: str = Field(default="en_US-joe-medium", min_length=1)
    speaker_id: int | None = Field(default=None, ge=0)
    length_scale: float = Field(default=1.0, gt=0.2, le=3.0)
    noise_scale: float = Field(default=0.667, ge=0, le=2.0)
    noise_w_scale: float = Field(default=0.8, ge=0, le=2.0)
    volume: float = Field(default=1.0, gt=0, le=4.0)
    # Pitch/formant treatment: target median F0 (Hz) and formant shift; None = untreated.
    pitch_median_hz: float | None = Field(default=None, ge=50, le=400)
    formant_shift: float = Field(default=1.0, ge=0.7, le=1.5)


class Persona(CamelModel):
    id: PersonaId
    name: str = Field(min_length=1)
    description: str
    voice: VoiceSettings
    personality: Personality
    communication_style: str
    training_prompts: list[str] = Field(default_factory=list)
    is_active: bool = True


def _every_phase() -> list[TrainingPhase]:
    return ["onboarding", "active", "recovery"]


class TriggerConditions(CamelModel):
    device_required: DeviceRequirement = "any"
    # The lowest tier the trigger is open to.
    subscription_level: SubscriptionType = "free"
    training_phase: list[TrainingPhase] = Field(default_factory=_every_phase)


class Trigger(CamelModel):
    id: TriggerId
    name: str = Field(min_length=1)
    description: str
    prompt_template: str
    required_context: list[str] = Field(default_factory=list)
    max_response_length: int = Field(ge=20, le=500)
    priority: int = Field(ge=1, le=10)
    cooldown_seconds: float = Field(default=0, ge=0)
    conditions: TriggerConditions = Field(default_factory=TriggerConditions)


class ResponseMetadata(CamelModel):
    generation_latency: float = Field(default=0, ge=0, description="milliseconds")
    tts_latency: float = Field(default=0, ge=0, description="milliseconds")
    cache_hit: bool = False
    model_version: str = ""
    input_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)


class Feedback(CamelModel):
    """A rating of a line. `comments` is sanitized as it is read (emails, phone numbers,
    IP addresses never reach the store, from any edge: CLI, API, button)."""

    rating: int = Field(ge=1, le=5)
    helpful: bool | None = None
    comments: str | None = Field(default=None, max_length=2000)

    @field_validator("comments")
    @classmethod
    def _sanitized(cls, comments: str | None) -> str | None:
        return sanitize_text(comments) if comments else comments


class VoiceResponse(CamelModel):
    id: str = Field(default_factory=new_id)
    user_id: str = Field(min_length=1, max_length=128)
    trigger_id: TriggerId
    persona_id: PersonaId
    text_content: str = Field(min_length=1, max_length=500)
    toast_message: str = Field(default="", max_length=60)
    audio_key: str | None = None
    audio_length: float = Field(default=0, ge=0, description="seconds")
    metadata: ResponseMetadata = Field(default_factory=ResponseMetadata)
    workout_context: WorkoutContext = Field(default_factory=WorkoutContext)
    device_state: DeviceState = Field(default_factory=DeviceState)
    feedback: Feedback | None = None
    event_id: str | None = None
    deleted_at: float | None = None
    created_at: float = Field(default_factory=time.time)


class DevicePreferences(CamelModel):
    auto_detect_earbuds: bool = True
    fallback_to_speaker: bool = True
    toast_duration: int = Field(default=3000, ge=1000, le=10000, description="milliseconds")
    max_daily_coaching: int = Field(default=100, ge=0, le=10000)


class PrivacySettings(CamelModel):
    allow_data_collection: bool = True
    # The seed's spelling ("AI", not the generated "Ai"); rows stored before still read.
    allow_ai_training: bool = Field(
        default=False, serialization_alias="allowAITraining",
        validation_alias=AliasChoices("allowAITraining", "allowAiTraining"))
    data_retention_days: int = Field(default=90, ge=1, le=180)
    exclude_biometrics: bool = False


class UsageStats(CamelModel):
    total_responses: int = Field(default=0, ge=0)
    monthly_responses: int = Field(default=0, ge=0)
    average_rating: float | None = Field(default=None, ge=1, le=5)
    last_used: float | None = None


class Subscription(CamelModel):
    user_id: str = Field(min_length=1, max_length=128)
    subscription_type: SubscriptionType = "free"
    voice_access: bool = True
    training_frequency: str = Field(default="regular", max_length=32)
    preferred_persona: PersonaId = "alice"
    device_preferences: DevicePreferences = Field(default_factory=DevicePreferences)
    privacy_settings: PrivacySettings = Field(default_factory=PrivacySettings)
    usage_stats: UsageStats = Field(default_factory=UsageStats)
    training_phase: TrainingPhase = "active"


class TrainingData(CamelModel):
    id: str = Field(default_factory=new_id)
    user_id: str = Field(min_length=1, max_length=128)
    persona_id: PersonaId
    input_prompt: str
    expected_output: str | None = None
    actual_output: str
    quality: float = Unit
    user_feedback: Feedback | None = None
    is_validated: bool = False
    used_in_training: bool = False
    training_batch: str | None = None
    created_at: float = Field(default_factory=time.time)


class AudioCacheEntry(CamelModel):
    cache_key: str = Field(min_length=16)
    persona_id: PersonaId
    audio_length: float = Field(ge=0)
    file_size: int = Field(ge=0)
    format: str
    quality: str = "medium"
    checksum: str
    hit_count: int = Field(default=0, ge=0)
    last_accessed: float
    expires_at: float
    created_at: float = Field(default_factory=time.time)


class RateLimit(CamelModel):
    user_id: str
    request_type: RequestType
    window_start: float
    request_count: int = Field(ge=0)
    window_size: int = Field(gt=0, description="seconds")
    max_requests: int = Field(ge=0)


def dump_row(model: CamelModel) -> dict[str, Any]:
    """A model as a SQLite row: camelCase columns, nested objects as JSON (via sqlite-utils)."""
    return model.to_json_dict()
