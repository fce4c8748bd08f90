"""Request bodies read in full, within a size and a time limit, before anything parses them.

Without it one 25 MB body pushed the daemon past its memory cap and a 6 MB one held the
loop for seconds while FastAPI parsed it. A declared Content-Length above the limit gets
413 before a byte is read; a body that grows past it while streaming gets 413 as soon as
it does; a body that trickles in slower than the read timeout gets 408.
"""

import asyncio
import time

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_BODY_LIMIT = 64 * 1024
# A plan of 200 sets is about 40 KB of JSON; room for long exercise names and spacing.
BODY_LIMITS = {"/v1/workouts/plan": 256 * 1024}
BODY_READ_TIMEOUT_SECONDS = 10.0


def body_limit(path: str) -> int:
    return BODY_LIMITS.get(path, DEFAULT_BODY_LIMIT)


class BodyTooLarge(Exception):
    pass


def _declared_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length")
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None  # h11 refuses a malformed Content-Length before we see it


async def _read_body(receive: Receive, limit: int, timeout: float) -> bytes | None:
    """The whole body, or None when the client went away; BodyTooLarge / TimeoutError."""
    chunks: list[bytes] = []
    size = 0
    deadline = time.monotonic() + timeout
    while True:
        message = await asyncio.wait_for(receive(), max(0.0, deadline - time.monotonic()))
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


class BodyLimitMiddleware:
    """Read each request's body within `body_limit(path)` bytes and the read timeout, then
    hand it to the app in one message."""

    def __init__(self, app: ASGIApp, read_timeout: float | None = None) -> None:
        self.app = app
        self.read_timeout = read_timeout or BODY_READ_TIMEOUT_SECONDS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope["path"])
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await _refuse(scope, receive, send, 413, f"request body over {limit} bytes")
            return
        try:
            body = await _read_body(receive, limit, self.read_timeout)
        except BodyTooLarge:
            await _refuse(scope, receive, send, 413, f"request body over {limit} bytes")
            return
        except TimeoutError:
            await _refuse(scope, receive, send, 408,
                          f"request body not received within {self.read_timeout:g} s")
            return
        if body is None:
            return  # the client disconnected: nobody to answer

        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body, only a disconnect can come

        await self.app(scope, replay, send)


async def _refuse(scope: Scope, receive: Receive, send: Send, code: int, detail: str) -> None:
    # Connection: close, so the unread rest of the body is never parsed as a next request.
    response = JSONResponse({"detail": detail}, status_code=code,
                            headers={"Connection": "close"})
    await response(scope, receive, send)
