"""Per-user settings, export, deletion and the talk-less/talk-more dial."""

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from edgecoach.api.bodies import strict_body
from edgecoach.api.context import ApiContext, get_context
from edgecoach.api.errors import BAD_BODY_RESPONSE
from edgecoach.api.models import TalkRequest, UserDeleted, UserIdPath
from edgecoach.contract import Subscription
from edgecoach.contract.base import CamelModel, partial_model
from edgecoach.errors import ValidationFailed
from edgecoach.store import Store

router = APIRouter(prefix="/v1/users/{userId}")
Context = Annotated[ApiContext, Depends(get_context)]


@router.get("/subscription", response_model=Subscription)
async def get_subscription(user_id: UserIdPath, context: Context) -> Subscription:
    """The user's subscription and settings (defaults for a user never seen)."""
    return await asyncio.to_thread(context.store.subscriptions.get, user_id)


def replace_settings(store: Store, subscription: Subscription) -> Subscription:
    """Store new settings; usage stats are the daemon's counters and keep their values."""
    with store.database.transaction():
        current = store.subscriptions.get(subscription.user_id)
        updated = subscription.model_copy(update={"usage_stats": current.usage_stats})
        store.subscriptions.put(updated, share=True)
    return updated


@router.put("/subscription", response_model=Subscription, responses=BAD_BODY_RESPONSE)
async def put_subscription(
    user_id: UserIdPath, subscription: Subscription, request: Request, context: Context
) -> Subscription:
    """Replace the user's settings; the body's userId must be the path's. usageStats is
    read-only: the value sent is ignored."""
    subscription = await strict_body(request, subscription)
    if subscription.user_id != user_id:
        raise ValidationFailed("body.userId", "must equal the userId in the path")
    return await asyncio.to_thread(replace_settings, context.store, subscription)


SubscriptionPatch = partial_model(Subscription, exclude=frozenset({"usage_stats"}))


@router.patch("/subscription", response_model=Subscription, responses=BAD_BODY_RESPONSE)
async def patch_subscription(
    user_id: UserIdPath, changes: SubscriptionPatch,  # type: ignore[valid-type]
    request: Request, context: Context,
) -> Subscription:
    """Change only the fields sent (the seed's partial update): an app that sends only
    `preferredPersona` changes nothing else. Nested settings merge field by field."""
    checked: CamelModel = await strict_body(request, changes)
    sent = checked.model_dump(exclude_unset=True, by_alias=True)
    if sent.get("userId", user_id) != user_id:
        raise ValidationFailed("body.userId", "must equal the userId in the path")
    return await asyncio.to_thread(context.store.subscriptions.patch, user_id, sent)


@router.get("/export", response_model=dict[str, Any])
async def export_user(user_id: UserIdPath, context: Context) -> dict[str, Any]:
    """Everything stored about the user, as one JSON document (audio by cache key)."""
    return await asyncio.to_thread(context.store.retention.export_user, user_id)


@router.delete("", response_model=UserDeleted)
async def delete_user(user_id: UserIdPath, context: Context) -> UserDeleted:
    """Erase the user: every row, every audio clip no other user shares, and what the
    daemon holds in memory for them."""
    counts = await asyncio.to_thread(context.store.retention.delete_user, user_id)
    context.daemon.forget_user(user_id)
    return UserDeleted(user_id=user_id, deleted=counts)


@router.post("/talk", response_model=dict[str, Any], responses=BAD_BODY_RESPONSE)
async def talk(user_id: UserIdPath, body: TalkRequest, context: Context) -> dict[str, Any]:
    """Ask the coach to say less or more."""
    return await context.daemon.talk(user_id, body.direction)
