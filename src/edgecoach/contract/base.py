"""Base model and the one place pydantic errors become EdgeCoach errors."""

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, create_model
from pydantic.alias_generators import to_camel
from pydantic.fields import FieldInfo

from edgecoach.errors import ValidationFailed


class CamelModel(BaseModel):
    """Python attributes in snake_case, JSON in the seed's camelCase; unknown fields rejected."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", validate_assignment=True
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
