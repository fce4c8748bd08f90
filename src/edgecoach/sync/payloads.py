"""What leaves the device: one upstream item per outbox row, built at send time.

The privacy settings in force when the item is sent decide (DESIGN section 2):

- `allowDataCollection=false`: the item is dropped, never sent, not even later (data made
  while the athlete said "do not collect" must not leave once they change their mind);
  the local record stays.
- `allowAITraining=false`: `training_data` items are dropped.
- `excludeBiometrics`: heart rate, strain, sleep and zone fields are removed at any depth,
  and their values are blanked out of the free texts (a line says "heart rate 172").
- every free text (lines, toasts, comments, prompts, outputs) goes through `sanitize_text`.

A record that no longer exists (deleted user, soft-deleted response) drops its item.
Everything here is blocking SQLite work: call it from a worker thread.
"""

import json
import re
from dataclasses import dataclass, field
from typing import Any

from edgecoach.contract import PrivacySettings
from edgecoach.privacy import BIOMETRIC_FIELDS, sanitize_text, strip_biometrics
from edgecoach.session.talk_budget import TalkBudget
from edgecoach.store.database import Database
from edgecoach.store.responses import response_from_row
from edgecoach.store.subscriptions import Subscriptions

BIOMETRIC_PLACEHOLDER = "[BIOMETRIC]"
# Local bookkeeping that means nothing upstream (the line's audio travels as audioKey).
LOCAL_ONLY_FIELDS = ("eventId", "deletedAt")
SUBSCRIPTION_LOCAL_FIELDS = ("usageStats", "trainingPhase")
# Free texts, at any depth: sanitized always. Ids and hashes are left alone (a UUID has
# digit groups a phone pattern could take).
TEXT_FIELDS = frozenset({"textContent", "toastMessage", "comments", "exercise",
                         "inputPrompt", "expectedOutput", "actualOutput"})
# Prose that may say a biometric number out loud; inputPrompt is JSON and is stripped instead.
PROSE_FIELDS = TEXT_FIELDS - {"inputPrompt", "exercise"}


@dataclass
class Prepared:
    """A batch ready to send, and the outbox items that must not be sent (id -> reason)."""

    items: list[dict[str, Any]] = field(default_factory=list)
    dropped: dict[str, str] = field(default_factory=dict)


def prepare(database: Database, rows: list[dict]) -> Prepared:
    """Turn due outbox rows into upstream items, under the privacy settings of now."""
    prepared = Prepared()
    subscriptions = Subscriptions(database)
    privacy: dict[str, PrivacySettings] = {}
    for row in rows:
        user_id = row["userId"]
        if user_id not in privacy:
            privacy[user_id] = subscriptions.get(user_id).privacy_settings
        settings = privacy[user_id]
        # The settings themselves always go: the cloud must learn a "do not collect" too.
        if not settings.allow_data_collection and row["kind"] != "subscription":
            prepared.dropped[row["id"]] = "allowDataCollection=false"
            continue
        if row["kind"] == "training_data" and not settings.allow_ai_training:
            prepared.dropped[row["id"]] = "allowAITraining=false"
            continue
        record = _record(database, row["kind"], row["recordId"])
        if record is None:
            prepared.dropped[row["id"]] = "record no longer exists"
            continue
        prepared.items.append({
            "id": row["id"], "kind": row["kind"], "userId": user_id,
            "recordId": row["recordId"], "createdAt": row["createdAt"],
            "record": _filtered(row["kind"], record, settings.exclude_biometrics),
        })
    return prepared


def _record(database: Database, kind: str, record_id: str) -> dict[str, Any] | None:
    if kind == "coaching_state":
        return _coaching_state(database, record_id)
    if kind == "subscription":
        return _subscription(database, record_id)
    table = "training_data" if kind == "training_data" else "voice_responses"
    where = "id = ?" if kind == "training_data" else "id = ? and deletedAt is null"
    with database.reading() as db:
        rows = list(db.query(f"select * from {table} where {where}", [record_id]))
    if not rows:
        return None
    if kind == "training_data":
        return _training_data(rows[0])
    response = response_from_row(rows[0]).to_json_dict()
    if kind == "feedback":
        if response["feedback"] is None:
            return None
        return {"responseId": response["id"], "triggerId": response["triggerId"],
                "personaId": response["personaId"], "feedback": response["feedback"]}
    for key in LOCAL_ONLY_FIELDS:
        response.pop(key, None)
    return response


def _training_data(row: dict) -> dict[str, Any]:
    record = dict(row)
    record["userFeedback"] = json.loads(row["userFeedback"]) if row["userFeedback"] else None
    record["isValidated"] = bool(row["isValidated"])
    record["usedInTraining"] = bool(row["usedInTraining"])
    return record


def _coaching_state(database: Database, user_id: str) -> dict[str, Any] | None:
    with database.reading() as db:
        exists = db.execute(
            "select 1 from coaching_state where userId = ? union all "
            "select 1 from trigger_ratings where userId = ? limit 1", [user_id, user_id],
        ).fetchone()
    if exists is None:
        return None
    state = TalkBudget(database).state(user_id)
    # The time of the last spoken line is working state, not a preference.
    state.pop("lastSpokenAt", None)
    return state


def _subscription(database: Database, user_id: str) -> dict[str, Any] | None:
    """The settings the athlete may change; the usage counters and the training phase
    are the device's own."""
    subscriptions = Subscriptions(database)
    updated_at = subscriptions.updated_at(user_id)
    if updated_at is None:
        return None
    record = subscriptions.get(user_id).to_json_dict()
    for key in SUBSCRIPTION_LOCAL_FIELDS:
        record.pop(key)
    return {**record, "updatedAt": updated_at}


def _filtered(kind: str, record: dict[str, Any], exclude_biometrics: bool) -> dict[str, Any]:
    """Sanitized texts; with `exclude_biometrics`, no biometric field or value anywhere."""
    prompt = _prompt_json(record.get("inputPrompt")) if kind == "training_data" else None
    values = _biometric_values(prompt if prompt is not None else record)
    record = strip_biometrics(record) if exclude_biometrics else record
    if prompt is not None:
        kept = strip_biometrics(prompt) if exclude_biometrics else prompt
        record["inputPrompt"] = json.dumps(kept, sort_keys=True)
    blank = values if exclude_biometrics else set()
    return _clean_texts(record, blank)


def _prompt_json(text: Any) -> dict | None:
    if not isinstance(text, str):
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _biometric_values(value: Any) -> set[float]:
    if isinstance(value, dict):
        found = {float(item) for key, item in value.items()
                 if key in BIOMETRIC_FIELDS and isinstance(item, int | float)}
        for item in value.values():
            found |= _biometric_values(item)
        return found
    if isinstance(value, list):
        return set().union(*(_biometric_values(item) for item in value)) if value else set()
    return set()


def _clean_texts(value: Any, blank: set[float], key: str = "") -> Any:
    if isinstance(value, dict):
        return {name: _clean_texts(item, blank, name) for name, item in value.items()}
    if isinstance(value, list):
        return [_clean_texts(item, blank, key) for item in value]
    if isinstance(value, str) and key in TEXT_FIELDS:
        text = sanitize_text(value)
        return _blank_numbers(text, blank) if key in PROSE_FIELDS else text
    return value


def _blank_numbers(text: str, values: set[float]) -> str:
    """Replace each standalone number equal to a biometric value by a placeholder."""
    if not values:
        return text

    def replace(match: re.Match[str]) -> str:
        return BIOMETRIC_PLACEHOLDER if float(match.group()) in values else match.group()

    return re.sub(r"(?<![\w.])\d+(?:\.\d+)?(?![\w]|\.\d)", replace, text)
