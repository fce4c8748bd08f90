"""The bearer-token check, in front of everything the app serves.

It is ASGI middleware rather than a FastAPI dependency because FastAPI reads and parses
a body before it runs dependencies: a request with no token and a malformed body must
get 401, not a 422 that reveals how the body was read.
"""

import secrets

from fastapi.security import HTTPBearer
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

# Declares the scheme in the OpenAPI document; TokenMiddleware enforces it.
bearer_scheme = HTTPBearer(
    auto_error=False,
    description="The token from the daemon's api-token file (mode 0600).",
)
UNAUTHORIZED_DETAIL = "missing or invalid bearer token"


def token_matches(supplied: str, expected: str) -> bool:
    """Compare in constant time; bytes so any non-ASCII input compares instead of raising."""
    return secrets.compare_digest(supplied.encode("utf-8"), expected.encode("utf-8"))


def bearer_token(authorization: str | None) -> str | None:
    scheme, _, credentials = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()


class TokenMiddleware:
    """Answer 401 to any HTTP request that does not carry `Authorization: Bearer <token>`."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            supplied = bearer_token(Headers(scope=scope).get("authorization"))
            if supplied is None or not token_matches(supplied, self.token):
                response = JSONResponse({"detail": UNAUTHORIZED_DETAIL}, status_code=401,
                                        headers={"WWW-Authenticate": "Bearer"})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
