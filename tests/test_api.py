"""The local HTTP API over a real server on 127.0.0.1 and a real SQLite file.

One uvicorn serves the whole module (starting and stopping one per test cost more than
the tests); each test mounts its own app, over its own SQLite file, on it.
"""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from edgecoach.api import ApiServer, create_app
from edgecoach.contract import VoiceResponse, WorkoutContext
from edgecoach.errors import (
    EdgeCoachError,
    LimitExceeded,
    NotFound,
    StoreError,
    ValidationFailed,
)
from edgecoach.settings import ApiSettings
from edgecoach.store import Store
from tests.daemon_double import QueueDaemonPort

TOKEN = "t" * 43
USER = "athlete"
OTHER = "someone-else"


AUTH = {"Authorization": f"Bearer {TOKEN}"}

pytestmark = pytest.mark.asyncio(loop_scope="module")


class Live:
    """The module's server: forwards each request to the app the running test mounted."""

    def __init__(self) -> None:
        self.app: FastAPI | None = None
        self.address = ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None, "no app mounted"
        await self.app(scope, receive, send)

    @contextlib.asynccontextmanager
    async def mount(self, app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
        """Serve `app` and give a client that holds the token."""
        self.app = app
        try:
            async with httpx.AsyncClient(base_url=self.address, headers=AUTH,
                                         timeout=10) as client:
                yield client
        finally:
            self.app = None


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def live() -> AsyncIterator[Live]:
    server_app = Live()
    async with ApiServer(server_app, ApiSettings(port=0)) as server:
        server_app.address = server.address
        yield server_app


class Running:
    """A mounted app, a client holding the token, and what is behind them."""

    def __init__(self, client: httpx.AsyncClient, store: Store, port: QueueDaemonPort,
                 address: str) -> None:
        self.client = client
        self.store = store
        self.port = port
        self.address = address


@pytest_asyncio.fixture(loop_scope="module")
async def api(live: Live, store: Store) -> AsyncIterator[Running]:
    port = QueueDaemonPort(asyncio.Queue(), extra_status=lambda: {"hasEarbuds": True})
    async with live.mount(create_app(store, TOKEN, port, user_id=USER)) as client:
        yield Running(client, store, port, live.address)


def add_response(store: Store, user_id: str = USER, text: str = "Ten reps, strong.",
                 created_at: float | None = None) -> VoiceResponse:
    response = VoiceResponse(
        user_id=user_id, trigger_id="set-end", persona_id="alice", text_content=text,
        workout_context=WorkoutContext(exercise="squat", reps=10, heart_rate=150),
        created_at=created_at if created_at is not None else store.database.clock())
    store.responses.add(response)
    return response


def snapshot(store: Store) -> dict[str, list[dict]]:
    """Every row of every table, to prove a rejected request changed nothing."""
    with store.database.reading() as db:
        return {name: list(db[name].rows) for name in db.table_names()}


def event_body(**context: Any) -> dict[str, Any]:
    return {"triggerId": "set-end", "userId": USER, "context": {"exercise": "squat", **context}}


# --- auth -------------------------------------------------------------------------------

REQUESTS = [
    ("POST", "/v1/events", event_body(reps=5)),
    ("POST", "/v1/responses/x/feedback", {"rating": 5}),
    ("GET", "/v1/status", None),
    ("GET", "/v1/responses", None),
    ("GET", f"/v1/users/{USER}/subscription", None),
    ("PUT", f"/v1/users/{USER}/subscription", {"userId": USER, "subscriptionType": "pro"}),
    ("GET", f"/v1/users/{USER}/export", None),
    ("DELETE", f"/v1/users/{USER}", None),
    ("POST", f"/v1/users/{USER}/talk", {"direction": "less"}),
    ("GET", "/openapi.json", None),
]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Bearer {TOKEN}x"},
     {"Authorization": f"Basic {TOKEN}"}, {"Authorization": TOKEN}],
    ids=["missing", "wrong", "longer", "basic-scheme", "no-scheme"],
)
async def test_every_route_refuses_a_missing_or_wrong_token(api: Running, headers: dict) -> None:
    add_response(api.store)
    before = snapshot(api.store)
    async with httpx.AsyncClient(base_url=api.address, headers=headers) as anonymous:
        for method, path, body in REQUESTS:
            reply = await anonymous.request(method, path, json=body)
            assert reply.status_code == 401, (method, path, reply.text)
            assert reply.headers["www-authenticate"] == "Bearer"
    assert snapshot(api.store) == before
    assert api.port.queue.empty()
    assert api.port.chattiness == {}


@pytest.mark.parametrize("body", [b"not json", b"\xff\xfe", b'{"reps":'])
async def test_token_is_checked_before_the_body_is_read(api: Running, body: bytes) -> None:
    async with httpx.AsyncClient(base_url=api.address) as anonymous:
        reply = await anonymous.post("/v1/events", content=body,
                                     headers={"Content-Type": "application/json"})
    assert reply.status_code == 401


async def test_unknown_paths_need_the_token_too(api: Running) -> None:
    async with httpx.AsyncClient(base_url=api.address) as anonymous:
        assert (await anonymous.get("/v2/anything")).status_code == 401
    assert (await api.client.get("/v2/anything")).status_code == 404


# --- workout plans ----------------------------------------------------------------------

PLAN = {"userId": USER, "sets": [
    {"exercise": "back squat", "reps": 8, "weight": 60, "rest": 90},
    {"exercise": "back squat", "reps": 5, "weight": 80, "rest": 120},
    {"exercise": "bench press", "reps": 6, "weight": 60}]}


async def test_a_plan_is_queued_as_numbered_set_events(api: Running) -> None:
    reply = await api.client.post("/v1/workouts/plan", json=PLAN)
    assert reply.status_code == 202
    assert reply.json() == {"userId": USER, "plannedEvents": 6}
    plan = api.port.queue.get_nowait()
    assert plan.user_id == USER
    starts = [context for trigger, context in plan.events if trigger == "set-start"]
    assert [(c.exercise, c.set_number, c.total_sets, c.last_set, c.reps, c.weight)
            for c in starts] == [("back squat", 1, 2, False, 8, 60),
                                 ("back squat", 2, 2, True, 5, 80),
                                 ("bench press", 1, 1, True, 6, 60)]
    ends = [context for trigger, context in plan.events if trigger == "set-end"]
    assert [c.rest_seconds for c in ends] == [90, 120, 0]


@pytest.mark.parametrize(("sets", "field"), [
    ([], ["body", "sets"]),
    ([{"exercise": "squat", "reps": 0}], ["body", "sets", 0, "reps"]),
    ([{"exercise": "squat", "reps": 5, "tempo": "slow"}], ["body", "sets", 0, "tempo"]),
    ([{"exercise": "squat", "reps": 5}] * 201, ["body", "sets"]),
], ids=["empty", "reps-0", "unknown-field", "too-many"])
async def test_a_bad_plan_is_refused_naming_the_field(api: Running, sets: list,
                                                      field: str) -> None:
    reply = await api.client.post("/v1/workouts/plan", json={"userId": USER, "sets": sets})
    assert reply.status_code == 422
    assert reply.json()["detail"][0]["loc"] == field
    assert api.port.queue.empty()


# --- events -----------------------------------------------------------------------------

async def test_an_event_is_queued_with_its_id(api: Running) -> None:
    reply = await api.client.post("/v1/events", json={**event_body(reps=8, heartRate=142),
                                                      "id": "evt-1"})
    assert reply.status_code == 202
    assert reply.json() == {"eventId": "evt-1"}
    queued = api.port.queue.get_nowait()
    assert queued.id == "evt-1"
    assert queued.context.reps == 8 and queued.context.heart_rate == 142
    assert queued.source == "api"


async def test_an_integer_may_be_written_with_a_zero_fraction(api: Running) -> None:
    # JSON Schema counts 8.0 as an integer; the strict re-check must not refuse it.
    reply = await api.client.post("/v1/events", json=event_body(reps=8.0, heartRate=140.0))
    assert reply.status_code == 202
    assert api.port.queue.get_nowait().context.reps == 8


async def test_an_event_without_id_gets_one(api: Running) -> None:
    reply = await api.client.post("/v1/events", json=event_body())
    assert reply.status_code == 202
    assert reply.json()["eventId"] == api.port.queue.get_nowait().id


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (event_body(reps=0), "reps"),
        (event_body(heartRate=300), "heartRate"),
        (event_body(strain=101), "strain"),
        (event_body(weight=-1), "weight"),
        ({**event_body(), "triggerId": "cooldown"}, "triggerId"),
        ({**event_body(), "userId": ""}, "userId"),
        ({**event_body(), "surprise": 1}, "surprise"),
        (event_body(weight=True), "weight"),
        (event_body(reps="8"), "reps"),
        (event_body(reps=8.5), "reps"),
        ({**event_body(), "context": {"lastSet": 1}}, "lastSet"),
    ],
    ids=["reps-0", "heart-rate-300", "strain-101", "weight-negative", "unknown-trigger",
         "empty-user", "unknown-field", "weight-true", "reps-string", "reps-fraction",
         "bool-as-int"],
)
async def test_a_bad_event_is_422_naming_the_field(api: Running, body: dict, field: str) -> None:
    reply = await api.client.post("/v1/events", json=body)
    assert reply.status_code == 422
    assert field in reply.json()["detail"][0]["loc"]
    assert api.port.queue.empty()


async def test_a_full_queue_is_503_and_the_event_is_not_taken(live: Live, store: Store) -> None:
    port = QueueDaemonPort(asyncio.Queue(maxsize=1))
    port.queue.put_nowait("occupied")
    app = create_app(store, TOKEN, port)
    async with live.mount(app) as client:
        reply = await client.post("/v1/events", json=event_body())
    assert reply.status_code == 503
    assert reply.headers["retry-after"] == "1"
    assert "queue is full" in reply.json()["detail"]
    assert port.queue.qsize() == 1


# --- responses and feedback -------------------------------------------------------------

async def test_recent_responses_newest_first_for_the_user(api: Running) -> None:
    older = add_response(api.store, text="First set done.", created_at=1_750_000_000)
    newer = add_response(api.store, text="Second set done.", created_at=1_750_000_100)
    add_response(api.store, user_id=OTHER, text="Not yours.")
    reply = await api.client.get("/v1/responses")  # the daemon's athlete by default
    assert reply.status_code == 200
    assert [item["id"] for item in reply.json()] == [newer.id, older.id]
    assert reply.json()[0]["workoutContext"]["heartRate"] == 150
    limited = await api.client.get("/v1/responses", params={"userId": USER, "limit": 1})
    assert [item["id"] for item in limited.json()] == [newer.id]
    other = await api.client.get("/v1/responses", params={"userId": OTHER})
    assert [item["textContent"] for item in other.json()] == ["Not yours."]


@pytest.mark.parametrize("limit", [0, 201, "many"])
async def test_a_bad_limit_is_422(api: Running, limit: object) -> None:
    reply = await api.client.get("/v1/responses", params={"limit": limit})
    assert reply.status_code == 422
    assert reply.json()["detail"][0]["loc"] == ["query", "limit"]


async def test_a_repeated_query_parameter_is_422(api: Running) -> None:
    reply = await api.client.get("/v1/responses?userId=a&userId=b")
    assert reply.status_code == 422
    assert reply.json()["detail"][0]["loc"] == ["query", "userId"]


async def test_an_unknown_query_parameter_is_422(api: Running) -> None:
    reply = await api.client.get("/v1/status", params={"user": USER})
    assert reply.status_code == 422
    assert "user" in reply.json()["detail"][0]["loc"]


async def test_no_user_and_no_default_is_422_naming_user_id(live: Live, store: Store) -> None:
    app = create_app(store, TOKEN, QueueDaemonPort(asyncio.Queue()))  # no default athlete
    async with live.mount(app) as client:
        reply = await client.get("/v1/responses")
        status = await client.get("/v1/status")
    assert reply.status_code == 422
    assert reply.json()["detail"][0]["loc"] == ["query", "userId"]
    assert status.status_code == 200
    assert status.json()["limitsRemaining"] is None


async def test_feedback_is_stored_and_queued_for_upstream(api: Running) -> None:
    response = add_response(api.store)
    pending = api.store.outbox.pending_count()
    reply = await api.client.post(f"/v1/responses/{response.id}/feedback",
                                  json={"rating": 4, "helpful": True, "comments": "good"})
    assert reply.status_code == 200
    assert reply.json()["feedback"] == {"rating": 4, "helpful": True, "comments": "good"}
    assert api.store.responses.get(response.id).feedback.rating == 4
    # feedback + training data + the talk budget it taught (the rating said helpful or not)
    assert api.store.outbox.pending_count() == pending + 3


async def test_feedback_for_an_unknown_response_is_404(api: Running) -> None:
    before = snapshot(api.store)
    reply = await api.client.post("/v1/responses/no-such-id/feedback", json={"rating": 3})
    assert reply.status_code == 404
    assert "no-such-id" in reply.json()["detail"]
    assert snapshot(api.store) == before


@pytest.mark.parametrize(
    "body", [{"rating": 0}, {"rating": 6}, {}, {"rating": "five"}, {"rating": "4"},
             {"rating": True}])
async def test_bad_feedback_is_422_naming_rating(api: Running, body: dict) -> None:
    response = add_response(api.store)
    before = snapshot(api.store)
    reply = await api.client.post(f"/v1/responses/{response.id}/feedback", json=body)
    assert reply.status_code == 422
    assert "rating" in reply.json()["detail"][0]["loc"]
    assert snapshot(api.store) == before


# --- status -----------------------------------------------------------------------------

async def test_status_reports_daemon_limits_and_outbox(api: Running) -> None:
    add_response(api.store)
    api.store.limits.try_acquire(USER, "coaching_trigger", "free", 100)
    await api.client.post("/v1/events", json=event_body())
    reply = await api.client.get("/v1/status")
    assert reply.status_code == 200
    status = reply.json()
    assert status["daemon"] == {"queueSize": 1, "queueMaxSize": None, "hasEarbuds": True}
    assert status["userId"] == USER
    assert status["limitsRemaining"] == {"coachingPerHour": 49, "ttsPerHour": 20,
                                         "coachingToday": 99}
    assert status["outboxPending"] == 1


# --- subscription -----------------------------------------------------------------------

async def test_a_new_user_has_the_default_subscription(api: Running) -> None:
    reply = await api.client.get("/v1/users/newcomer/subscription")
    assert reply.status_code == 200
    assert reply.json()["userId"] == "newcomer"
    assert reply.json()["subscriptionType"] == "free"
    assert not api.store.subscriptions.exists("newcomer")


async def test_put_subscription_stores_settings_and_keeps_usage_stats(api: Running) -> None:
    add_response(api.store)  # counts one response in usageStats
    body = {"userId": USER, "subscriptionType": "pro", "preferredPersona": "aiden",
            "devicePreferences": {"toastDuration": 5000, "maxDailyCoaching": 10},
            "privacySettings": {"dataRetentionDays": 30, "excludeBiometrics": True},
            "usageStats": {"totalResponses": 999}}
    reply = await api.client.put(f"/v1/users/{USER}/subscription", json=body)
    assert reply.status_code == 200
    stored = api.store.subscriptions.get(USER)
    assert stored.subscription_type == "pro" and stored.preferred_persona == "aiden"
    assert stored.device_preferences.toast_duration == 5000
    assert stored.privacy_settings.exclude_biometrics
    assert stored.usage_stats.total_responses == 1
    assert reply.json() == stored.to_json_dict()
    again = await api.client.get(f"/v1/users/{USER}/subscription")
    assert again.json() == stored.to_json_dict()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"devicePreferences": {"toastDuration": 500}}, "toastDuration"),
        ({"devicePreferences": {"toastDuration": 10001}}, "toastDuration"),
        ({"privacySettings": {"dataRetentionDays": 0}}, "dataRetentionDays"),
        ({"privacySettings": {"dataRetentionDays": 181}}, "dataRetentionDays"),
        ({"subscriptionType": "gold"}, "subscriptionType"),
        ({"preferredPersona": "bob"}, "preferredPersona"),
        ({"userId": OTHER}, "userId"),
        ({"devicePreferences": {"toastDuration": "5000"}}, "toastDuration"),
        ({"voiceAccess": "yes"}, "voiceAccess"),
    ],
    ids=["toast-500", "toast-10001", "retention-0", "retention-181", "tier", "persona",
         "user-mismatch", "toast-string", "bool-string"],
)
async def test_a_bad_subscription_is_422_naming_the_field(
    api: Running, body: dict, field: str
) -> None:
    await api.client.put(f"/v1/users/{USER}/subscription", json={"userId": USER})
    before = snapshot(api.store)
    reply = await api.client.put(f"/v1/users/{USER}/subscription",
                                 json={"userId": USER, **body})
    assert reply.status_code == 422, reply.text
    assert field in reply.json()["detail"][0]["loc"]
    assert snapshot(api.store) == before


# --- export and deletion ----------------------------------------------------------------

async def test_export_holds_only_that_users_data(api: Running) -> None:
    mine = add_response(api.store, text="Mine.")
    theirs = add_response(api.store, user_id=OTHER, text="Theirs.")
    await api.client.post(f"/v1/responses/{theirs.id}/feedback", json={"rating": 2})
    reply = await api.client.get(f"/v1/users/{USER}/export")
    assert reply.status_code == 200
    document = reply.json()
    assert document["userId"] == USER
    assert [row["id"] for row in document["voice_responses"]] == [mine.id]
    text = json.dumps(document)
    assert OTHER not in text and theirs.id not in text and "Theirs." not in text
    assert document["outbox"] and all(row["userId"] == USER for row in document["outbox"])


async def test_delete_leaves_no_row_of_the_user(api: Running) -> None:
    mine = add_response(api.store)
    await api.client.post(f"/v1/responses/{mine.id}/feedback", json={"rating": 5})
    await api.client.put(f"/v1/users/{USER}/subscription", json={"userId": USER})
    api.store.limits.try_acquire(USER, "coaching_trigger", "free", 100)
    add_response(api.store, user_id=OTHER)
    reply = await api.client.delete(f"/v1/users/{USER}")
    assert reply.status_code == 200
    assert reply.json()["userId"] == USER
    assert reply.json()["deleted"]["voice_responses"] == 1
    for table, rows in snapshot(api.store).items():
        assert not [row for row in rows if USER in json.dumps(row)], table
    assert api.store.responses.recent(OTHER)  # the other user is untouched
    assert (await api.client.get(f"/v1/users/{USER}/export")).json()["voice_responses"] == []


# --- talk -------------------------------------------------------------------------------

# The dial itself is the daemon's (tests/test_daemon.py turns it on a running daemon).

async def test_talk_with_a_bad_direction_is_422(api: Running) -> None:
    reply = await api.client.post(f"/v1/users/{USER}/talk", json={"direction": "louder"})
    assert reply.status_code == 422
    assert "direction" in reply.json()["detail"][0]["loc"]
    assert api.port.chattiness == {}


# --- the OpenAPI document ---------------------------------------------------------------

async def test_openapi_document_lists_every_route_and_the_bearer_scheme(api: Running) -> None:
    reply = await api.client.get("/openapi.json")
    assert reply.status_code == 200
    document = reply.json()
    assert set(document["paths"]) == {
        "/v1/events", "/v1/workouts/plan", "/v1/responses/{id}/feedback", "/v1/status",
        "/v1/responses",
        "/v1/users/{userId}/subscription", "/v1/users/{userId}/export", "/v1/users/{userId}",
        "/v1/users/{userId}/talk", "/v1/workouts", "/v1/workouts/{workoutId}",
        "/v1/workouts/{workoutId}/report"}
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    event = document["components"]["schemas"]["ApiEvent"]
    assert "triggerId" in event["properties"]
    assert event["properties"]["source"]["enum"] == ["api", "replay"]


async def test_docs_pages_are_not_served(api: Running) -> None:
    # Swagger UI would load scripts from a CDN: useless offline, so it is off.
    for path in ("/docs", "/redoc"):
        assert (await api.client.get(path)).status_code == 404


# --- errors from the core, mapped in one place ------------------------------------------

class RefusingDaemon(QueueDaemonPort):
    """A daemon that turns down every talk request with the error it was given."""

    def __init__(self, error: Exception) -> None:
        super().__init__(asyncio.Queue())
        self.error = error

    async def talk(self, user_id: str, direction: str) -> dict[str, Any]:
        raise self.error


@pytest.mark.parametrize(
    ("error", "status"),
    [(EdgeCoachError("persona locked"), 409), (LimitExceeded("too chatty"), 429),
     (StoreError("disk full"), 503), (NotFound("no such user"), 404),
     (ValidationFailed("direction", "not now"), 422)],
    ids=["root-409", "limit-429", "store-503", "not-found-404", "validation-422"],
)
async def test_core_errors_become_statuses(
    live: Live, store: Store, error: Exception, status: int
) -> None:
    app = create_app(store, TOKEN, RefusingDaemon(error))
    async with live.mount(app) as client:
        reply = await client.post(f"/v1/users/{USER}/talk", json={"direction": "more"})
    assert reply.status_code == status
    if status == 422:
        assert reply.json()["detail"][0]["loc"] == ["body", "direction"]
    else:
        assert reply.json() == {"detail": str(error)}


async def test_a_broken_store_is_503_not_500(api: Running) -> None:
    api.store.close()
    reply = await api.client.get(f"/v1/users/{USER}/subscription")
    assert reply.status_code == 503
    assert "edgecoach.db" in reply.json()["detail"]
