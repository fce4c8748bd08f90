"""The one place where EdgeCoach errors become HTTP statuses and bodies."""

import logging
import math

from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from edgecoach.errors import (
    AudioOutputError,
    Busy,
    EdgeCoachError,
    LimitExceeded,
    ModelError,
    NotFound,
    SourceError,
    StoreError,
    UpstreamError,
    ValidationFailed,
    VoiceError,
)

log = logging.getLogger(__name__)

# Most specific class first; anything else an EdgeCoachError says is a conflict (409).
STATUS_BY_ERROR: tuple[tuple[type[EdgeCoachError], int], ...] = (
    (NotFound, status.HTTP_404_NOT_FOUND),
    (LimitExceeded, status.HTTP_429_TOO_MANY_REQUESTS),
    (Busy, status.HTTP_503_SERVICE_UNAVAILABLE),
    (StoreError, status.HTTP_503_SERVICE_UNAVAILABLE),
    (ModelError, status.HTTP_503_SERVICE_UNAVAILABLE),
    (VoiceError, status.HTTP_503_SERVICE_UNAVAILABLE),
    (AudioOutputError, status.HTTP_503_SERVICE_UNAVAILABLE),
    (SourceError, status.HTTP_503_SERVICE_UNAVAILABLE),
    (UpstreamError, status.HTTP_503_SERVICE_UNAVAILABLE),
)
DEFAULT_STATUS = status.HTTP_409_CONFLICT
RETRY_AFTER_SECONDS = "1"
REQUEST_PARTS = ("body", "query", "path")
# A 422 echoes a refused value up to this length, never a whole body.
MAX_ECHOED_CHARS = 40
# A body of thousands of unknown fields would otherwise get thousands of problems back.
MAX_PROBLEMS = 10
OMITTED = object()


class ErrorBody(BaseModel):
    """Every non-validation error: one human-readable line."""

    detail: str


# Documented on every route, so clients (and schemathesis) know what may come back.
COMMON_RESPONSES: dict[int | str, dict] = {
    status.HTTP_401_UNAUTHORIZED: {"model": ErrorBody, "description": "Missing or wrong token"},
    status.HTTP_409_CONFLICT: {"model": ErrorBody, "description": "Refused by the daemon"},
    status.HTTP_503_SERVICE_UNAVAILABLE: {"model": ErrorBody,
                                          "description": "Busy or store unavailable; retry"},
}
NOT_FOUND_RESPONSE: dict[int | str, dict] = {
    status.HTTP_404_NOT_FOUND: {"model": ErrorBody, "description": "No such record"},
}

# FastAPI answers 400 itself when a body is not decodable text, before any validation.
BAD_BODY_RESPONSE: dict[int | str, dict] = {
    status.HTTP_400_BAD_REQUEST: {"model": ErrorBody, "description": "Body is not JSON text"},
}


def status_for(error: EdgeCoachError) -> int:
    for error_class, code in STATUS_BY_ERROR:
        if isinstance(error, error_class):
            return code
    return DEFAULT_STATUS


def validation_body(error: ValidationFailed) -> dict:
    """The same shape as FastAPI's own 422 body, so clients parse one format.

    A field already placed ("query.userId", "path.userId") keeps its place; any other
    field came from a JSON body, as the contract's own errors do ("context.reps").
    """
    parts = error.field.split(".")
    placed = parts if parts[0] in REQUEST_PARTS else ["body", *parts]
    loc = [echoed_input(part) for part in placed]
    return {"detail": [{"loc": loc, "msg": error.reason, "type": "value_error"}]}


async def _handle_edgecoach_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, EdgeCoachError)
    if isinstance(error, ValidationFailed):
        return JSONResponse(validation_body(error),
                            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)
    code = status_for(error)
    headers = {"Retry-After": RETRY_AFTER_SECONDS} if code == 503 else None
    log.log(logging.WARNING if code >= 500 else logging.INFO,
            "%s %s -> %d: %s", request.method, request.url.path, code, error)
    return JSONResponse({"detail": str(error)}, status_code=code, headers=headers)


def echoed_input(value: object) -> object:
    """What a 422 may show of the value it refuses: a short, finite, encodable scalar.

    Echoing whole inputs sent a 6 MB body back; NaN, Infinity and lone surrogates made
    the 422 itself fail to encode (a 500). Anything else is left out.
    """
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, str):
        text = value.encode("utf-8", "backslashreplace").decode("utf-8")
        return text if len(text) <= MAX_ECHOED_CHARS else text[:MAX_ECHOED_CHARS] + "..."
    return OMITTED


def _safe_problem(problem: dict) -> dict:
    safe = {key: value for key, value in problem.items() if key not in ("input", "ctx")}
    # An unknown field's name is the client's text too.
    safe["loc"] = [part if isinstance(part, int) else echoed_input(str(part))
                   for part in problem.get("loc", ())]
    if "input" in problem and (echo := echoed_input(problem["input"])) is not OMITTED:
        safe["input"] = echo
    if isinstance(problem.get("ctx"), dict):
        safe["ctx"] = {key: echoed_input(value) for key, value in problem["ctx"].items()
                       if echoed_input(value) is not OMITTED}
    return safe


async def _handle_bad_body(request: Request, error: Exception) -> JSONResponse:
    """FastAPI's own 422: its first problems, with only short, encodable inputs echoed
    (see `echoed_input`)."""
    assert isinstance(error, RequestValidationError)
    problems = [_safe_problem(dict(problem)) for problem in error.errors()[:MAX_PROBLEMS]]
    return JSONResponse({"detail": jsonable_encoder(problems)},
                        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


def install_error_handlers(app: FastAPI) -> None:
    """Map every EdgeCoachError raised by a route or the store to its status."""
    app.add_exception_handler(EdgeCoachError, _handle_edgecoach_error)
    app.add_exception_handler(RequestValidationError, _handle_bad_body)
