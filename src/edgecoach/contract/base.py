"""Base model and the one place pydantic errors become EdgeCoach errors."""

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, create_model
from pydantic.alias_generators import to_camel
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from edgecoach.errors import ValidationFailed


class CamelModel(BaseModel):
    """Python attributes in snake_case, JSON in the seed's camelCase; unknown fields rejected."""

    # allow_inf_nan=False: NaN and Infinity are refused as values of every float field.
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", validate_assignment=True,
        allow_inf_nan=False,
    )

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


Model = TypeVar("Model", bound=BaseModel)


def describe_validation_error(error: ValidationError) -> ValidationFailed:
    """The first problem, with its field path in camelCase ('context.reps: ...')."""
    first = error.errors(include_url=False)[0]
    field = ".".join(str(part) for part in first["loc"]) or "(input)"
    return ValidationFailed(field, first["msg"])


def parse(model: type[Model], data: Any) -> Model:
    """Validate a dict or JSON text into `model`; ValidationFailed names the field."""
    try:
        if isinstance(data, str | bytes):
            return model.model_validate_json(data)
        return model.model_validate(data)
    except ValidationError as error:
        raise describe_validation_error(error) from None


def integral_float(problem: ErrorDetails) -> bool:
    """JSON Schema's one coercion, kept in strict mode: an integer may be written `8.0`."""
    value = problem.get("input")
    return problem["type"] == "int_type" and isinstance(value, float) and value.is_integer()


def strict_problems(model: type[BaseModel], text: str | bytes) -> list[ErrorDetails]:
    """What strict validation of JSON text finds (`"weight": true`, `"reps": "8"`), if any."""
    try:
        model.model_validate_json(text, strict=True)
    except ValidationError as error:
        return [p for p in error.errors(include_url=False) if not integral_float(p)]
    return []


def parse_strict(model: type[Model], text: str) -> Model:
    """JSON text taken as the schema states it, as the API takes a body; names the field."""
    parsed = parse(model, text)
    if problems := strict_problems(model, text):
        first = problems[0]
        raise ValidationFailed(".".join(str(part) for part in first["loc"]) or "(input)",
                               first["msg"])
    return parsed
def partial_model(model: type[CamelModel],
                  exclude: frozenset[str] = frozenset()) -> type[CamelModel]:
    """`model` with every field optional (absent: not changed), its bounds kept; nested
    models are partial too. For PATCH bodies: only the fields sent are checked."""
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name in exclude:
            continue
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, CamelModel):
            annotation = partial_model(annotation)
        optional = FieldInfo.merge_field_infos(info, default=None, default_factory=None)
        # Not Optional: absent means "unchanged", and null is refused like any wrong type.
        fields[name] = (annotation, optional)
    return create_model(f"{model.__name__}Patch", __base__=CamelModel, **fields)
