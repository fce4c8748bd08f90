"""Closed sets of identifiers shared by every part of the daemon."""

from typing import Literal, get_args

TriggerId = Literal[
    "onboarding", "pre-start", "set-start", "set-end", "strainsync", "workout-end", "hr-zone"
]
PersonaId = Literal["alice", "aiden"]
SubscriptionType = Literal["free", "pro", "trainer"]
RequestType = Literal["coaching_trigger", "tts_generation"]
DeviceRequirement = Literal["earbuds", "any"]
TrainingPhase = Literal["onboarding", "active", "recovery"]
EventSource = Literal["ble", "api", "replay", "script", "cli", "demo"]

TRIGGER_IDS: tuple[str, ...] = get_args(TriggerId)
PERSONA_IDS: tuple[str, ...] = get_args(PersonaId)
SUBSCRIPTION_TIERS: tuple[str, ...] = get_args(SubscriptionType)

# Order of tiers, so a trigger that needs "pro" is open to "pro" and "trainer".
TIER_RANK = {tier: rank for rank, tier in enumerate(SUBSCRIPTION_TIERS)}

# Physiological heart-rate range accepted from any source (bpm).
HEART_RATE_MIN = 25
HEART_RATE_MAX = 250
