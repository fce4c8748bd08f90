"""The deployment's rules for one ingested item, as convex/functions/ingest.ts has them.

LocalConvex applies them so that tests against it see what the real `ingestBatch`
answers; the golden batches (tests/fixtures/upstream) hold both sides to the same
accepted / rejected ids. The record shapes are the wire models below: strict (no
coercion, no unknown field), with the contract's own bounds.
"""

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from edgecoach.contract import (
    DevicePreferences,
    DeviceState,
    Feedback,
    PrivacySettings,
    WorkoutContext,
)
from edgecoach.contract.base import CamelModel, describe_validation_error
from edgecoach.contract.entities import ResponseMetadata
from edgecoach.contract.vocabulary import PersonaId, SubscriptionType, TriggerId

ITEM_KINDS = ("voice_response", "feedback", "training_data", "coaching_state", "subscription")
# What a device's subscription item may change in the cloud (the tier is the cloud's).
DEVICE_SETTINGS = ("preferredPersona", "devicePreferences", "privacySettings")


class _Wire(CamelModel):
    model_config = ConfigDict(strict=True)


class VoiceResponseRecord(_Wire):
    id: str
    user_id: str
    trigger_id: TriggerId
    persona_id: PersonaId
    text_content: str
    toast_message: str
    audio_key: str | None = None
    audio_length: float
    metadata: ResponseMetadata
    workout_context: WorkoutContext
    device_state: DeviceState
    feedback: Feedback | None = None
    created_at: float


class FeedbackRecord(_Wire):
    response_id: str
    trigger_id: TriggerId
    persona_id: PersonaId
    feedback: Feedback


class TrainingDataRecord(_Wire):
    id: str
    user_id: str
    persona_id: PersonaId
    input_prompt: str
    expected_output: str | None = None
    actual_output: str
    quality: float = Field(ge=0, le=1)
    user_feedback: Feedback | None = None
    is_validated: bool
    used_in_training: bool
    training_batch: str | None = None
    response_id: str | None = None
    created_at: float


class TriggerStats(_Wire):
    helpful: float
    not_helpful: float
    speak_chance: float


class CoachingStateRecord(_Wire):
    user_id: str
    chattiness: str
    min_gap_seconds: float
    priority_floor: float
    updated_at: float | None = None
    triggers: dict[str, TriggerStats]


class SubscriptionRecord(_Wire):
    user_id: str
    subscription_type: SubscriptionType
    voice_access: bool
    training_frequency: str
    preferred_persona: PersonaId
    device_preferences: DevicePreferences
    privacy_settings: PrivacySettings
    updated_at: float


RECORDS: dict[str, type[BaseModel]] = {
    "voice_response": VoiceResponseRecord,
    "feedback": FeedbackRecord,
    "training_data": TrainingDataRecord,
    "coaching_state": CoachingStateRecord,
    "subscription": SubscriptionRecord,
}


def item_problem(item: Any) -> str | None:
    """Why the item's envelope or record is refused, or None."""
    if not isinstance(item, dict):
        return "item: must be an object"
    for key, kind in (("id", str), ("kind", str), ("userId", str), ("recordId", str),
                      ("createdAt", float), ("record", dict)):
        value = item.get(key)
        if kind is float:
            if not isinstance(value, int | float) or isinstance(value, bool) \
                    or not math.isfinite(value):
                return f"item.{key}: must be a finite number"
        elif not isinstance(value, kind):
            return f"item.{key}: missing or of the wrong type"
    unknown = set(item) - {"id", "kind", "userId", "recordId", "createdAt", "record"}
    if unknown:
        return f"item.{sorted(unknown)[0]}: unknown field"
    if item["kind"] not in ITEM_KINDS:
        return f"kind: must be one of {', '.join(ITEM_KINDS)}"
    try:
        RECORDS[item["kind"]].model_validate(item["record"])
    except ValidationError as error:
        failure = describe_validation_error(error)
        return f"record.{failure.field}: {failure.reason}"
    owner = item["record"].get("userId", item["userId"])
    if owner != item["userId"]:
        return "record.userId: must equal the item's userId"
    return None


def privacy_refusal(kind: str, privacy: dict[str, Any] | None) -> str | None:
    """Why the cloud's `privacySettings` refuse the item (None: no settings in the cloud)."""
    if privacy is None or kind == "subscription":  # the settings themselves always go
        return None
    if privacy.get("allowDataCollection") is False:
        return "allowDataCollection=false"
    if kind == "training_data" and privacy.get("allowAITraining") is not True:
        return "allowAITraining=false"
    return None
