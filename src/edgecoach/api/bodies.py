"""JSON bodies taken as the schema states them, not as pydantic's lax mode would coerce them.

FastAPI validates a body in lax mode, where `"weight": true` becomes 1.0 and `"reps": "8"`
becomes 8: the kind of truthiness the design rules out. Routes keep the model as their
body parameter (for the OpenAPI document and the first check) and pass what FastAPI made
of it to `strict_body`, which reads the body again in strict mode. The one coercion kept
is JSON Schema's own: an integer may be written `8.0`.
"""

from typing import TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from edgecoach.contract.base import strict_problems

Model = TypeVar("Model", bound=BaseModel)


async def strict_body(request: Request, validated: Model) -> Model:
    """`validated` if the raw body also passes strict validation; 422 naming the field if not."""
    if problems := strict_problems(type(validated), await request.body()):
        raise RequestValidationError([
            {**problem, "loc": ("body", *problem["loc"])} for problem in problems])
    return validated
