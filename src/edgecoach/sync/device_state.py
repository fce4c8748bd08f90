"""Sync down: the cloud's word on a user (edgecoach:deviceState), validated and applied.

What the reply may change, and who wins:

- The tier (`subscriptionType`, `voiceAccess`, `trainingFrequency`): the cloud, always
  (an upgrade or a lapsed payment is the cloud's to say).
- Preferences (`preferredPersona`, `devicePreferences`, `privacySettings`): the newer
  `updatedAt` wins, so a change made on the device while offline is not undone by an
  older cloud value.
- A deletion request: the user is erased here (`Retention.delete_user`, audio included),
  then acknowledged upstream; a subscription in the same reply is ignored.

Everything is read from the store when used (the policy per event, the voice per line,
the sync per send), so an applied reply is in force for the next event, line and send.
Blocking SQLite work: call `apply_device_state` from a worker thread.
"""

import math
from dataclasses import dataclass
from typing import Literal

from pydantic import Field, field_validator

from edgecoach.contract import DevicePreferences, PrivacySettings, Subscription
from edgecoach.contract.base import CamelModel
from edgecoach.contract.vocabulary import PersonaId, SubscriptionType
from edgecoach.store import Store
from edgecoach.store.sync_state import SyncState

CLOUD_WINS = ("subscription_type", "voice_access", "training_frequency")
NEWER_WINS = ("preferred_persona", "device_preferences", "privacy_settings")


class CloudSubscription(CamelModel):
    user_id: str = Field(min_length=1, max_length=128)
    subscription_type: SubscriptionType
    voice_access: bool
    training_frequency: str = Field(max_length=32)
    preferred_persona: PersonaId
    device_preferences: DevicePreferences
    privacy_settings: PrivacySettings
    updated_at: float


class CloudDeletion(CamelModel):
    requested_at: float
    purge_at: float


class DeviceStateReply(CamelModel):
    protocol: Literal[1]
    user_id: str
    cursor: float = Field(ge=0)
    subscription: CloudSubscription | None = None
    deletion: CloudDeletion | None = None

    @field_validator("cursor")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be finite")
        return value


@dataclass(frozen=True)
class Applied:
    """What one reply changed on the device."""

    user_id: str
    subscription: bool = False
    tier: str | None = None  # the new tier when it changed
    deleted: bool = False


def apply_device_state(store: Store, reply: DeviceStateReply) -> Applied:
    """Apply a validated reply; the caller acknowledges a deletion upstream."""
    user_id = reply.user_id
    if reply.deletion is not None:
        store.retention.delete_user(user_id)
        SyncState(store.database).applied(user_id, reply.cursor)
        return Applied(user_id, deleted=True)
    applied = Applied(user_id)
    if reply.subscription is not None:
        applied = _apply_subscription(store, reply.subscription)
    SyncState(store.database).applied(user_id, reply.cursor)
    return applied


def _apply_subscription(store: Store, cloud: CloudSubscription) -> Applied:
    with store.database.transaction():
        local = store.subscriptions.get(cloud.user_id)
        local_updated = store.subscriptions.updated_at(cloud.user_id)
        cloud_newer = local_updated is None or cloud.updated_at >= local_updated
        fields = CLOUD_WINS + (NEWER_WINS if cloud_newer else ())
        merged: Subscription = local.model_copy(
            update={name: getattr(cloud, name) for name in fields})
        if merged == local:
            return Applied(cloud.user_id)
        updated_at = max(cloud.updated_at, local_updated or 0.0)
        store.subscriptions.put(merged, updated_at=updated_at)
    tier = merged.subscription_type if merged.subscription_type != local.subscription_type \
        else None
    return Applied(cloud.user_id, subscription=True, tier=tier)
