"""The one place where EdgeCoach errors become HTTP statuses and bodies."""

import logging

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
    loc = parts if parts[0] in REQUEST_PARTS else ["body", *parts]
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


async def _handle_bad_body(request: Request, error: Exception) -> JSONResponse:
    """FastAPI's own 422, minus an input that is not text: a body of raw bytes (no JSON
    content type, not UTF-8) made its default handler fail with a 500."""
    assert isinstance(error, RequestValidationError)
    problems = [{key: value for key, value in problem.items()
                 if not (key == "input" and isinstance(value, bytes))}
                for problem in error.errors()]
    return JSONResponse({"detail": jsonable_encoder(problems)},
                        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


def install_error_handlers(app: FastAPI) -> None:
    """Map every EdgeCoachError raised by a route or the store to its status."""
    app.add_exception_handler(EdgeCoachError, _handle_edgecoach_error)
    app.add_exception_handler(RequestValidationError, _handle_bad_body)
