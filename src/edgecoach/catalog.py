"""Personas and triggers, loaded from config/*.toml and validated at start."""

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pydantic import ValidationError

from edgecoach.contract import Persona, Trigger
from edgecoach.contract.base import CamelModel
from edgecoach.errors import ConfigError

Entry = TypeVar("Entry", bound=CamelModel)


@dataclass(frozen=True)
class Catalog:
    personas: dict[str, Persona]
    triggers: dict[str, Trigger]

    def persona(self, persona_id: str) -> Persona:
        return self.personas[persona_id]

    def trigger(self, trigger_id: str) -> Trigger:
        return self.triggers[trigger_id]


def read_toml(path: Path) -> dict:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None


def _load_entries(path: Path, model: type[Entry]) -> dict[str, Entry]:
    entries: dict[str, Entry] = {}
    for key, table in read_toml(path).items():
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: {key}: expected a table")
        try:
            entries[key] = model.model_validate({"id": key, **table})
        except ValidationError as error:
            first = error.errors(include_url=False)[0]
            field = ".".join(str(part) for part in first["loc"])
            raise ConfigError(f"{path}: {key}.{field}: {first['msg']}") from None
    return entries


def load_catalog(config_dir: Path) -> Catalog:
    """Both files must define every persona and trigger of the contract."""
    from edgecoach.contract.vocabulary import PERSONA_IDS, TRIGGER_IDS

    personas = _load_entries(config_dir / "personas.toml", Persona)
    triggers = _load_entries(config_dir / "triggers.toml", Trigger)
    for path, found, expected in (
        (config_dir / "personas.toml", personas, PERSONA_IDS),
        (config_dir / "triggers.toml", triggers, TRIGGER_IDS),
    ):
        missing = sorted(set(expected) - set(found))
        if missing:
            raise ConfigError(f"{path}: missing {', '.join(missing)}")
    return Catalog(personas=personas, triggers=triggers)
