"""The seed's contract exact on the wire: the seed's field names, partial subscription
updates (PATCH), the device state an app reports with an event."""

import pytest

# The module's live server and the `api` fixture, as tests/test_api.py has them.
from tests.test_api import USER, Running, api, live, snapshot  # noqa: F401

pytestmark = pytest.mark.asyncio(loop_scope="module")
SUBSCRIPTION = f"/v1/users/{USER}/subscription"
PRO = {"userId": USER, "subscriptionType": "pro",
       "privacySettings": {"dataRetentionDays": 30, "allowAITraining": True}}


async def test_patch_changes_only_the_fields_sent(api: Running) -> None:  # noqa: F811
    assert (await api.client.put(SUBSCRIPTION, json=PRO)).status_code == 200
    reply = await api.client.patch(SUBSCRIPTION, json={"preferredPersona": "aiden"})
    assert reply.status_code == 200, reply.text
    stored = api.store.subscriptions.get(USER)
    assert (stored.subscription_type, stored.preferred_persona) == ("pro", "aiden")
    assert stored.privacy_settings.data_retention_days == 30
    assert stored.privacy_settings.allow_ai_training


async def test_patch_merges_nested_settings_field_by_field(
        api: Running) -> None:  # noqa: F811
    await api.client.put(SUBSCRIPTION, json=PRO)
    reply = await api.client.patch(SUBSCRIPTION, json={
        "privacySettings": {"excludeBiometrics": True},
        "devicePreferences": {"maxDailyCoaching": 0}})
    assert reply.status_code == 200, reply.text
    privacy = reply.json()["privacySettings"]
    assert privacy == {"allowDataCollection": True, "allowAITraining": True,
                       "dataRetentionDays": 30, "excludeBiometrics": True}
    assert reply.json()["devicePreferences"]["maxDailyCoaching"] == 0


@pytest.mark.parametrize(("body", "field"), [
    ({"devicePreferences": {"toastDuration": 500}}, "toastDuration"),
    ({"privacySettings": {"dataRetentionDays": 0}}, "dataRetentionDays"),
    ({"privacySettings": {"dataRetentionDays": 181}}, "dataRetentionDays"),
    ({"subscriptionType": "gold"}, "subscriptionType"),
    ({"preferredPersona": "bob"}, "preferredPersona"),
    ({"preferredPersona": None}, "preferredPersona"),
    ({"privacySettings": None}, "privacySettings"),
    ({"devicePreferences": {"toastDuration": "5000"}}, "toastDuration"),
    ({"usageStats": {"totalResponses": 0}}, "usageStats"),
    ({"userId": "someone-else"}, "userId"),
    ({"mood": "great"}, "mood"),
], ids=["toast-500", "retention-0", "retention-181", "tier", "persona", "persona-null",
        "privacy-null", "toast-string", "usage-stats", "user-mismatch", "unknown"])
async def test_a_bad_patch_is_422_naming_the_field_and_changes_nothing(
        api: Running, body: dict, field: str) -> None:  # noqa: F811
    await api.client.put(SUBSCRIPTION, json=PRO)
    before = snapshot(api.store)
    reply = await api.client.patch(SUBSCRIPTION, json=body)
    assert reply.status_code == 422, reply.text
    assert field in str(reply.json()["detail"])
    assert snapshot(api.store) == before


async def test_the_seeds_allowAITraining_is_the_name_on_the_wire(
        api: Running) -> None:  # noqa: F811
    reply = await api.client.put(SUBSCRIPTION, json={
        "userId": USER, "privacySettings": {"allowAITraining": True}})
    assert reply.status_code == 200, reply.text
    assert reply.json()["privacySettings"]["allowAITraining"] is True
    assert api.store.subscriptions.get(USER).privacy_settings.allow_ai_training
    # The name this API used before is still read, and written back the seed's way.
    reply = await api.client.patch(SUBSCRIPTION, json={
        "privacySettings": {"allowAiTraining": False}})
    assert reply.status_code == 200, reply.text
    assert reply.json()["privacySettings"]["allowAITraining"] is False
    schema = (await api.client.get("/openapi.json")).json()
    assert "allowAITraining" in str(schema) and "allowAiTraining" not in str(schema)
