"""Hostile requests against a real uvicorn: sizes, slow bodies, non-finite numbers, text
that is not Unicode, and client clocks. Each is refused with its status, naming the field
where there is one, echoing no long input, and leaving the store and the queue untouched."""

import asyncio
import socket
import time
from urllib.parse import urlsplit

import httpx
import pytest

from edgecoach.api import body_limit, create_app
from edgecoach.api.admission import CLOCK_WINDOW_SECONDS
from edgecoach.api.errors import MAX_ECHOED_CHARS, MAX_PROBLEMS
from edgecoach.store import Store
from tests import test_api
from tests.daemon_double import QueueDaemonPort
from tests.test_api import TOKEN, USER, Live, Running, event_body, snapshot

# The server and mounted app of test_api.py, as fixtures of this module too.
live = test_api.live
api = test_api.api

pytestmark = pytest.mark.asyncio(loop_scope="module")
JSON = {"Content-Type": "application/json"}
DAY = 24 * 3600


def raw_request(address: str, head: bytes, body: bytes = b"", wait: float = 5.0) -> bytes:
    """Send `head` + `body` on a plain socket and read the answer until the server closes
    or `wait` passes: for what httpx would not send (a length it never delivers)."""
    url = urlsplit(address)
    with socket.create_connection((url.hostname, url.port), timeout=wait) as connection:
        connection.sendall(head + body)
        answer = b""
        try:
            while chunk := connection.recv(65536):
                answer += chunk
                if b"\r\n\r\n" in answer and b"}" in answer:
                    break
        except TimeoutError:
            pass
    return answer


def head(path: str, length: int) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: edgecoach\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n").encode()


async def test_a_declared_oversized_body_is_413_before_any_byte_is_read(api: Running) -> None:
    before = snapshot(api.store)
    started = time.monotonic()
    # 100 MB announced, none sent: an answer that waited for the body would never come.
    answer = await asyncio.to_thread(raw_request, api.address, head("/v1/events", 100 << 20))
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert time.monotonic() - started < 2
    assert snapshot(api.store) == before and api.port.queue.empty()


async def test_a_streamed_body_is_cut_at_the_limit(api: Running) -> None:
    # Chunked, no Content-Length: the size shows only while reading.
    chunked = head("/v1/events", 0).replace(b"Content-Length: 0", b"Transfer-Encoding: chunked")
    chunk = b"4000\r\n" + b" " * 0x4000 + b"\r\n"
    answer = await asyncio.to_thread(raw_request, api.address, chunked, chunk * 5)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert str(body_limit.DEFAULT_BODY_LIMIT).encode() in answer
    assert api.port.queue.empty()


async def test_a_plan_may_be_larger_than_an_event(api: Running) -> None:
    padded = b'{"userId": "athlete", "sets": [' + b" " * 100_000 + b'{"exercise": "squat", ' \
        b'"reps": 5}]}'
    assert body_limit.DEFAULT_BODY_LIMIT < len(padded) < body_limit.body_limit(
        "/v1/workouts/plan")
    assert (await api.client.post("/v1/workouts/plan", content=padded,
                                  headers=JSON)).status_code == 202
    assert (await api.client.post("/v1/events", content=padded,
                                  headers=JSON)).status_code == 413
    api.port.queue.get_nowait()


async def test_a_body_trickling_in_is_408(live: Live, store: Store,  # noqa: F811
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(body_limit, "BODY_READ_TIMEOUT_SECONDS", 0.3)
    port = QueueDaemonPort(asyncio.Queue())
    async with live.mount(create_app(store, TOKEN, port, user_id=USER)):
        # 50 bytes announced, 12 sent, then silence.
        answer = await asyncio.to_thread(raw_request, live.address, head("/v1/events", 50),
                                         b'{"triggerId"')
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert port.queue.empty()


@pytest.mark.parametrize(("body", "field"), [
    (b'{"triggerId": "set-end", "userId": "a", "context": {"reps": NaN}}', "reps"),
    (b'{"triggerId": "set-end", "userId": "a", "timestamp": NaN}', "timestamp"),
    (b'{"triggerId": "set-end", "userId": "a", "timestamp": Infinity}', "timestamp"),
    (b'{"triggerId": "set-end", "userId": "a", "context": {"reps": 1e400}}', "reps"),
    (b'{"triggerId": "set-end", "userId": "a", "context": {"weight": -Infinity}}', "weight"),
    (b'{"triggerId": "set-end", "userId": "\\ud800"}', "userId"),
    (b'{"triggerId": "set-end", "userId": "a", "context": {"exercise": "sq\\udfffuat"}}',
     "exercise"),
    # A field name that is not text: pydantic places it at the body itself.
    (b'{"triggerId": "set-end", "userId": "a", "\\ud800": 1}', "body"),
], ids=["reps-nan", "timestamp-nan", "timestamp-inf", "reps-1e400", "weight-minus-inf",
        "user-lone-surrogate", "exercise-lone-surrogate", "key-lone-surrogate"])
async def test_non_finite_numbers_and_lone_surrogates_are_422_naming_the_field(
        api: Running, body: bytes, field: str) -> None:
    before = snapshot(api.store)
    reply = await api.client.post("/v1/events", content=body, headers=JSON)
    assert reply.status_code == 422, reply.text
    assert field in reply.json()["detail"][0]["loc"]
    assert snapshot(api.store) == before and api.port.queue.empty()


async def test_a_422_echoes_no_long_input(api: Running) -> None:
    long_name = "x" * 60_000
    reply = await api.client.post("/v1/events", json=event_body(exercise=long_name))
    assert reply.status_code == 422
    problem = reply.json()["detail"][0]
    assert problem["loc"] == ["body", "context", "exercise"]
    assert len(problem["input"]) <= MAX_ECHOED_CHARS + 3
    assert len(reply.content) < 1000
    whole = await api.client.post("/v1/events", json={"triggerId": "set-end",
                                                      "userId": USER, "context": "y" * 60_000})
    assert whole.status_code == 422 and len(whole.content) < 1000
    many = await api.client.post("/v1/events", json={
        **event_body(), "context": {f"k{number}": 1 for number in range(5000)}})
    assert many.status_code == 422
    assert len(many.json()["detail"]) == MAX_PROBLEMS and len(many.content) < 2000


# --- client clocks and sources -------------------------------------------------------------

@pytest.mark.parametrize(("offset", "source", "field"), [
    (365 * DAY, "api", "timestamp"),
    (DAY + 60, "replay", "timestamp"),
    (-2 * DAY, "api", "timestamp"),
    (0, "ble", "source"),
    (0, "demo", "source"),
], ids=["year-ahead", "replay-from-the-future", "two-days-old-live", "claims-ble",
        "claims-demo"])
async def test_a_client_clock_or_source_out_of_bounds_is_422(
        api: Running, offset: float, source: str, field: str) -> None:
    before = snapshot(api.store)
    body = {**event_body(), "timestamp": time.time() + offset, "source": source}
    reply = await api.client.post("/v1/events", json=body)
    assert reply.status_code == 422, reply.text
    assert reply.json()["detail"][0]["loc"] == ["body", field]
    assert snapshot(api.store) == before and api.port.queue.empty()


async def test_an_event_ahead_of_the_daemon_takes_the_daemon_time(api: Running) -> None:
    reply = await api.client.post("/v1/events", json={
        **event_body(), "triggerId": "pre-start", "timestamp": time.time() + DAY - 60})
    assert reply.status_code == 202
    queued = api.port.queue.get_nowait()
    assert queued.timestamp <= time.time()  # never later than the daemon's clock


async def test_a_replay_keeps_its_workout_time_and_a_recent_live_event_its_own(
        api: Running) -> None:
    old = time.time() - 30 * DAY
    recent = time.time() - 600
    for timestamp, source in ((old, "replay"), (recent, "api")):
        reply = await api.client.post("/v1/events", json={
            **event_body(), "timestamp": timestamp, "source": source})
        assert reply.status_code == 202
        queued = api.port.queue.get_nowait()
        assert (queued.timestamp, queued.source) == (timestamp, source)
    assert CLOCK_WINDOW_SECONDS == DAY


async def test_an_httpx_client_without_the_token_never_gets_a_413(api: Running) -> None:
    # The token is checked first: a stranger learns nothing about the limits.
    async with httpx.AsyncClient(base_url=api.address) as anonymous:
        reply = await anonymous.post("/v1/events", content=b"x" * 200_000, headers=JSON)
    assert reply.status_code == 401
