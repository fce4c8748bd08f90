"""`edgecoach setup`'s library side: check the athlete's answers, show what follows from
them (heart-rate zones), and apply them all at once: the settings file (comments kept),
the user's subscription and chattiness. Nothing is written before every answer is in,
so an interrupted set-up leaves the old settings as they were."""

import math
import os
from dataclasses import dataclass
from pathlib import Path

import tomlkit
from pydantic import ValidationError

from edgecoach.contract import PERSONA_IDS
from edgecoach.errors import ValidationFailed
from edgecoach.session.talk_budget import CHATTINESS_LEVELS, TalkBudget
from edgecoach.session.zone_cues import DEFAULT_ZONES, HeartRateZone, target_zone
from edgecoach.settings import AthleteSettings, Settings
from edgecoach.store import Store


@dataclass(frozen=True)
class SetupAnswers:
    persona: str
    athlete: AthleteSettings
    chattiness: str | None  # None: keep the user's current level
    strap_address: str | None = None  # the paired heart-rate strap, if any


def check_persona(value: str) -> str:
    chosen = value.strip().lower()
    if chosen not in PERSONA_IDS:
        raise ValidationFailed("coach", f"must be one of {', '.join(PERSONA_IDS)}")
    return chosen


def check_chattiness(value: str) -> str:
    chosen = value.strip().lower()
    if chosen not in CHATTINESS_LEVELS:
        raise ValidationFailed("chattiness", f"must be one of {', '.join(CHATTINESS_LEVELS)}")
    return chosen


def parse_whole_number(field: str, text: str | int | None) -> int | None:
    """'' or None: not given; else a whole number, or ValidationFailed naming the field."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValidationFailed(field, f"{text!r} is not a number") from None
    if not math.isfinite(value) or value != int(value):
        raise ValidationFailed(field, f"{text!r} is not a whole number")
    return int(value)


def check_athlete(age: int | None, max_heart_rate: int | None,
                  resting_heart_rate: int | None) -> AthleteSettings:
    """The athlete's settings, with the bounds the daemon enforces, or ValidationFailed."""
    try:
        athlete = AthleteSettings(age=age, max_heart_rate=max_heart_rate,
                                  resting_heart_rate=resting_heart_rate)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        raise ValidationFailed(str(first["loc"][0]).replace("_", " "), first["msg"]) from None
    if (max_heart_rate is not None and resting_heart_rate is not None
            and resting_heart_rate >= max_heart_rate):
        raise ValidationFailed("resting heart rate", "must be below the maximum heart rate")
    return athlete


def zones(athlete: AthleteSettings) -> dict[str, HeartRateZone]:
    """The target zone of each workout phase that follows from the athlete's answers."""
    return {phase: target_zone(athlete, bounds) for phase, bounds in DEFAULT_ZONES.items()}


def settings_target() -> Path:
    """Where set-up writes: the file EDGECOACH_CONFIG names, else the user's settings file."""
    from edgecoach.settings import user_settings_file

    configured = os.environ.get("EDGECOACH_CONFIG")
    return Path(configured) if configured else user_settings_file()


def render_settings(answers: SetupAnswers, base_text: str) -> str:
    """The settings file in force with the answers written in; comments are kept."""
    document = tomlkit.parse(base_text)
    document["persona"] = answers.persona
    athlete = document.setdefault("athlete", tomlkit.table())
    for key, value in answers.athlete.model_dump().items():
        if value is None:
            athlete.pop(key, None)
        else:
            athlete[key] = value
    if answers.strap_address:
        document.setdefault("sources", tomlkit.table())["ble_address"] = answers.strap_address
    return tomlkit.dumps(document)


def apply_answers(answers: SetupAnswers, settings: Settings, base: Path, target: Path) -> Path:
    """Write the settings file (whole, then renamed in place), then the subscription and
    chattiness of the settings' user."""
    text = render_settings(answers, base.read_text(encoding="utf-8"))
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, target)
    store = Store.open(settings.database_path)
    try:
        current = store.subscriptions.get(settings.user_id)
        store.subscriptions.put(current.model_copy(update={"preferred_persona": answers.persona}))
        if answers.chattiness is not None:
            TalkBudget(store.database).set_chattiness(settings.user_id, answers.chattiness)
    finally:
        store.close()
    return target


__all__ = ["SetupAnswers", "apply_answers", "check_athlete",
           "check_chattiness", "check_persona", "parse_whole_number", "render_settings",
           "settings_target", "zones"]
