"""The data contract: the seed schema's entities as pydantic models (camelCase on the wire)."""

from edgecoach.contract.base import parse
from edgecoach.contract.entities import (
    AudioCacheEntry,
    DevicePreferences,
    Feedback,
    Persona,
    Personality,
    PrivacySettings,
    RateLimit,
    ResponseMetadata,
    Subscription,
    TrainingData,
    Trigger,
    TriggerConditions,
    UsageStats,
    VoiceResponse,
    VoiceSettings,
)
from edgecoach.contract.events import DeviceState, WorkoutContext, WorkoutEvent
from edgecoach.contract.vocabulary import (
    PERSONA_IDS,
    SUBSCRIPTION_TIERS,
    TRIGGER_IDS,
    PersonaId,
    SubscriptionType,
    TriggerId,
)

__all__ = [
    "AudioCacheEntry",
    "DevicePreferences",
    "DeviceState",
    "Feedback",
    "PERSONA_IDS",
    "Persona",
    "PersonaId",
    "Personality",
    "PrivacySettings",
    "RateLimit",
    "ResponseMetadata",
    "SUBSCRIPTION_TIERS",
    "Subscription",
    "SubscriptionType",
    "TRIGGER_IDS",
    "TrainingData",
    "Trigger",
    "TriggerConditions",
    "TriggerId",
    "UsageStats",
    "VoiceResponse",
    "VoiceSettings",
    "WorkoutContext",
    "WorkoutEvent",
    "parse",
]
