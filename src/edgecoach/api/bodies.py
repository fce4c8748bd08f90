"""JSON bodies taken as the schema states them, not as pydantic's lax mode would coerce them.

FastAPI validates a body in lax mode, where `"weight": true` becomes 1.0 and `"reps": "8"`
becomes 8: the kind of truthiness the design rules out. Routes keep the model as their
body parameter (for the OpenAPI document and the first check) and pass what FastAPI made
of it to `strict_body`, which reads the body again in strict mode. The one coercion kept
is JSON Schema's own: an integer may be written `8.0`.
"""

import json
from collections.abc import Iterator
from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from edgecoach.contract.base import strict_problems

Model = TypeVar("Model", bound=BaseModel)


def _lone_surrogates(value: Any, loc: tuple[str | int, ...] = ()) -> Iterator[tuple]:
    """Where the parsed JSON holds text that is not Unicode (a lone surrogate, '\\ud800'):
    JSON allows the escape, but no such text can be stored, printed or sent upstream."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            yield loc
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _lone_surrogates(key, (*loc, key))
            yield from _lone_surrogates(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _lone_surrogates(item, (*loc, index))


def _refuse_lone_surrogates(body: bytes) -> None:
    bad = next(_lone_surrogates(json.loads(body)), None)
    if bad is not None:
        raise RequestValidationError([{
            "type": "string_unicode", "loc": ("body", *bad),
            "msg": "Input should be valid Unicode text (it holds a lone surrogate)"}])


async def strict_body(request: Request, validated: Model) -> Model:
    """`validated` if the raw body also passes strict validation; 422 naming the field if not."""
    body = await request.body()
    _refuse_lone_surrogates(body)  # before pydantic's JSON parser, which names no field
    if problems := strict_problems(type(validated), body):
        raise RequestValidationError([
            {**problem, "loc": ("body", *problem["loc"])} for problem in problems])
    return validated
