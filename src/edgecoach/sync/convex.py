"""The Convex HTTP API client: `POST {url}/api/mutation` and `/api/query`, and what their
answers mean.

Every way a call can fail becomes one of three errors (edgecoach.errors):

- `UpstreamOffline`: no connection at all (refused, DNS failure, connect timeout).
- `UpstreamUnavailable`: the call may have reached the deployment but did not complete
  (HTTP 429/5xx, read timeout, connection reset, malformed JSON); `retry_after` carries
  the server's Retry-After when it sent one.
- `UpstreamRejected`: the deployment answered and refused (`{"status": "error"}`, HTTP 4xx).

The token lives only in the client's default headers; every message that leaves this
module is passed through `_redact` first, in case a server or an exception echoes it.
"""

import email.utils
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx

from edgecoach.errors import (
    UpstreamForbidden,
    UpstreamOffline,
    UpstreamRejected,
    UpstreamUnavailable,
)

logger = logging.getLogger(__name__)

MUTATION_ENDPOINT = "/api/mutation"
QUERY_ENDPOINT = "/api/query"
# Convex answers 560 when the function itself threw; the body then says why.
STATUS_FUNCTION_FAILED = 560
# A Retry-After longer than this is taken as a misconfigured server, not a plan.
MAX_RETRY_AFTER_SECONDS = 24 * 3600.0
MAX_MESSAGE_CHARS = 300


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - now
        except (TypeError, ValueError):
            return None
    return min(MAX_RETRY_AFTER_SECONDS, max(0.0, seconds))


class ConvexClient:
    """Calls mutations of one Convex deployment; use as `async with` or call `aclose()`."""

    def __init__(self, url: str, token: str | None, timeout_seconds: float,
                 clock: Callable[[], float] = time.time) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._token = token
        self._clock = clock
        self._http = httpx.AsyncClient(
            base_url=url.rstrip("/"), headers=headers, timeout=timeout_seconds)

    async def __aenter__(self) -> "ConvexClient":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def mutation(self, path: str, args: dict[str, Any]) -> Any:
        """Run mutation `path` (`module:function`) with `args`; returns its value."""
        return await self._call(MUTATION_ENDPOINT, path, args)

    async def query(self, path: str, args: dict[str, Any]) -> Any:
        """Run query `path` with `args`; returns its value."""
        return await self._call(QUERY_ENDPOINT, path, args)

    async def _call(self, endpoint: str, path: str, args: dict[str, Any]) -> Any:
        body = {"path": path, "args": args, "format": "json"}
        try:
            response = await self._http.post(endpoint, json=body)
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            raise UpstreamOffline(self._redact(f"cannot connect: {error}")) from None
        except httpx.TimeoutException:
            raise UpstreamUnavailable("no reply before the timeout") from None
        except httpx.TransportError as error:
            raise UpstreamUnavailable(self._redact(
                f"connection lost: {type(error).__name__}: {error}")) from None
        return self._value_of(response)

    def _value_of(self, response: httpx.Response) -> Any:
        status = response.status_code
        retry_after = parse_retry_after(response.headers.get("retry-after"), self._clock())
        if status == 429 or (status >= 500 and status != STATUS_FUNCTION_FAILED):
            raise UpstreamUnavailable(f"HTTP {status}", retry_after=retry_after)
        try:
            reply = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            reply = None
        if not isinstance(reply, dict) or reply.get("status") not in ("success", "error"):
            if status == 200:
                raise UpstreamUnavailable("malformed reply (not a Convex JSON envelope)")
            raise UpstreamRejected(f"HTTP {status}")
        if reply["status"] == "error" or status != 200:
            message = str(reply.get("errorMessage") or "no errorMessage")
            hint = " (check upstream.token)" if status in (401, 403) else ""
            error = UpstreamForbidden if status == 403 else UpstreamRejected
            raise error(self._redact(f"HTTP {status}{hint}: {message}"[:MAX_MESSAGE_CHARS]))
        return reply.get("value")

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "[TOKEN]") if self._token else text
