"""The Convex client's reading of replies (the server side is tests/convex_server.py)."""

import email.utils

import pytest

from edgecoach.errors import UpstreamOffline, UpstreamRejected, UpstreamUnavailable
from edgecoach.sync import ConvexClient, parse_retry_after
from tests.convex_server import TOKEN, Fault, FaultKind, unused_port

NOW = 1_750_000_000.0


@pytest.mark.parametrize(("header", "seconds"), [
    ("120", 120), ("0", 0), ("-5", 0), (" 7 ", 7), ("soon", None), (None, None), ("", None),
    (email.utils.formatdate(NOW + 30, usegmt=True), 30),
    (email.utils.formatdate(NOW - 30, usegmt=True), 0),
    ("99999999", 24 * 3600),
])
def test_retry_after_seconds_or_http_date(header, seconds):
    assert parse_retry_after(header, NOW) == seconds


async def test_success_returns_the_value(convex_server):
    state = {"userId": "u", "chattiness": "quiet", "minGapSeconds": 120.0,
             "priorityFloor": 7, "updatedAt": NOW, "triggers": {}}
    good = {"id": "a", "kind": "coaching_state", "userId": "u", "recordId": "u",
            "createdAt": NOW, "record": state}
    bad = {**good, "id": "b", "kind": "feedback", "record": {}}
    args = {"protocol": 1, "items": [good, bad]}
    async with ConvexClient(convex_server.url, TOKEN, 2) as client:
        value = await client.mutation("edgecoach:ingestBatch", args)
    assert value == {"accepted": ["a"],
                     "rejected": [{"id": "b", "error": "record.responseId: Field required"}]}
    assert convex_server.requests[0].path == "edgecoach:ingestBatch"


@pytest.mark.parametrize(("fault", "error"), [
    (Fault(FaultKind.HTTP_500), UpstreamUnavailable),
    (Fault(FaultKind.RATE_LIMITED, retry_after="3"), UpstreamUnavailable),
    (Fault(FaultKind.MALFORMED), UpstreamUnavailable),
    (Fault(FaultKind.RESET), UpstreamUnavailable),
    (Fault(FaultKind.HANG, hang_seconds=3), UpstreamUnavailable),
    (Fault(FaultKind.ERROR_STATUS), UpstreamRejected),
])
async def test_each_failure_has_its_error(convex_server, fault, error):
    convex_server.inject(fault)
    async with ConvexClient(convex_server.url, TOKEN, 0.3) as client:
        with pytest.raises(error) as raised:
            await client.mutation("edgecoach:ingestBatch", {"items": []})
    assert not isinstance(raised.value, UpstreamOffline)
    assert raised.value.retry_after == (3 if fault.kind is FaultKind.RATE_LIMITED else None)


async def test_unknown_function_is_rejected(convex_server):
    async with ConvexClient(convex_server.url, TOKEN, 2) as client:
        with pytest.raises(UpstreamRejected, match="Could not find public function"):
            await client.mutation("edgecoach:nope", {})


async def test_connection_refused_is_offline():
    async with ConvexClient(f"http://127.0.0.1:{unused_port()}", TOKEN, 2) as client:
        with pytest.raises(UpstreamOffline):
            await client.mutation("edgecoach:ingestBatch", {"items": []})
