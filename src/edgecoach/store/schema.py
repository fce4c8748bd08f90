"""Tables of the design, their indexes, and forward migrations.

Columns use the seed's camelCase field names so a row and its upstream payload match.
Each migration is applied once, in order, in one transaction with its version row.
"""

from collections.abc import Callable

import sqlite_utils

Migration = Callable[[sqlite_utils.Database], None]


def _v1_initial(db: sqlite_utils.Database) -> None:
    db.table("personas").create(
        {"id": str, "name": str, "description": str, "voice": str, "personality": str,
         "communicationStyle": str, "trainingPrompts": str, "isActive": int},
        pk="id",
    )
    db.table("triggers").create(
        {"id": str, "name": str, "description": str, "promptTemplate": str,
         "requiredContext": str, "maxResponseLength": int, "priority": int,
         "cooldownSeconds": float, "conditions": str},
        pk="id",
    )
    db.table("subscriptions").create(
        {"userId": str, "subscriptionType": str, "voiceAccess": int, "trainingFrequency": str,
         "preferredPersona": str, "devicePreferences": str, "privacySettings": str,
         "usageStats": str, "trainingPhase": str, "updatedAt": float},
        pk="userId",
    )
    db.table("events").create(
        {"id": str, "userId": str, "triggerId": str, "source": str, "payload": str,
         "status": str, "reason": str, "responseId": str, "createdAt": float},
        pk="id",
    )
    db.table("voice_responses").create(
        {"id": str, "userId": str, "triggerId": str, "personaId": str, "textContent": str,
         "toastMessage": str, "audioKey": str, "audioLength": float, "metadata": str,
         "workoutContext": str, "deviceState": str, "feedback": str, "eventId": str,
         "deletedAt": float, "createdAt": float},
        pk="id",
    )
    db.table("training_data").create(
        {"id": str, "userId": str, "personaId": str, "inputPrompt": str, "expectedOutput": str,
         "actualOutput": str, "quality": float, "userFeedback": str, "isValidated": int,
         "usedInTraining": int, "trainingBatch": str, "responseId": str, "createdAt": float},
        pk="id",
    )
    db.table("audio_cache").create(
        {"cacheKey": str, "personaId": str, "audio": bytes, "checksum": str,
         "audioLength": float, "fileSize": int, "format": str, "quality": str,
         "hitCount": int, "lastAccessed": float, "expiresAt": float, "createdAt": float},
        pk="cacheKey",
    )
    db.table("rate_limits").create(
        {"userId": str, "requestType": str, "windowStart": float, "windowSize": int,
         "requestCount": int, "maxRequests": int},
        pk=("userId", "requestType", "windowSize", "windowStart"),
    )
    db.table("limit_denials").create(
        {"id": int, "userId": str, "requestType": str, "reason": str, "eventId": str,
         "createdAt": float},
        pk="id",
    )
    db.table("outbox").create(
        {"id": str, "userId": str, "path": str, "kind": str, "recordId": str, "payload": str,
         "createdAt": float, "attempts": int, "nextAttemptAt": float, "sentAt": float,
         "lastError": str},
        pk="id",
    )
    # The seed's indexes, plus what the daemon's own queries need.
    db.table("voice_responses").create_index(["userId"], index_name="by_user")
    db.table("voice_responses").create_index(["userId", "createdAt"], index_name="by_user_created")
    db.table("voice_responses").create_index(["triggerId"], index_name="by_trigger")
    db.table("voice_responses").create_index(["personaId"], index_name="by_persona")
    db.table("voice_responses").create_index(["audioKey"], index_name="by_audio_key")
    db.table("training_data").create_index(["personaId"], index_name="by_training_persona")
    db.table("training_data").create_index(["isValidated"], index_name="by_validated")
    db.table("training_data").create_index(["userId"], index_name="by_training_user")
    db.table("audio_cache").create_index(["expiresAt"], index_name="by_expiry")
    db.table("audio_cache").create_index(["lastAccessed"], index_name="by_last_accessed")
    db.table("rate_limits").create_index(["userId", "requestType"], index_name="by_user_type")
    db.table("events").create_index(["userId", "createdAt"], index_name="by_event_user_created")
    db.table("outbox").create_index(["sentAt", "nextAttemptAt"], index_name="by_pending")
    db.table("outbox").create_index(["userId"], index_name="by_outbox_user")


def _v2_coaching_state(db: sqlite_utils.Database) -> None:
    """The talk budget (edgecoach.session.talk_budget): chattiness and ratings per trigger."""
    db.table("coaching_state").create(
        {"userId": str, "chattiness": str, "lastSpokenAt": float, "updatedAt": float},
        pk="userId", not_null={"chattiness"},
    )
    db.table("trigger_ratings").create(
        {"userId": str, "triggerId": str, "helpful": int, "notHelpful": int, "updatedAt": float},
        pk=("userId", "triggerId"), not_null={"helpful", "notHelpful"},
    )


def _v3_erasures(db: sqlite_utils.Database) -> None:
    """Tombstones of erased users, by hash of their id (edgecoach.store.erasures)."""
    db.table("erasures").create({"userHash": str, "erasedAt": float}, pk="userHash")


def _v4_sync_down(db: sqlite_utils.Database) -> None:
    """Sync down's cursor per user (edgecoach.sync.device_state), and who each clip
    synthesized ahead of time was for (a deleted user's clips go with them)."""
    db.table("sync_state").create(
        {"userId": str, "cursor": float, "lastDownAt": float, "lastError": str}, pk="userId")
    db.table("speculative_clips").create(
        {"cacheKey": str, "userId": str, "createdAt": float}, pk=("cacheKey", "userId"))


def _v5_workouts(db: sqlite_utils.Database) -> None:
    """Workouts as records of their own (store/workouts.py): their heart rate, their events."""
    db.table("workouts").create(
        {"id": str, "userId": str, "start": float, "end": float, "source": str,
         "summary": str, "createdAt": float},
        pk="id", not_null={"userId", "start", "source"},
    )
    db.table("workouts").create_index(["userId", "start"], index_name="by_workout_user_start")
    # No key but the rowid: a strap may send two readings within the same second.
    db.table("workout_samples").create(
        {"workoutId": str, "userId": str, "at": float, "heartRate": int, "strain": float},
        not_null={"workoutId", "userId", "at", "heartRate"},
    )
    db.table("workout_samples").create_index(["workoutId", "at"], index_name="by_sample_workout")
    db.table("workout_samples").create_index(["userId"], index_name="by_sample_user")
    db.table("events").add_column("workoutId", str)
    db.table("events").create_index(["workoutId"], index_name="by_event_workout")


MIGRATIONS: list[Migration] = [
    _v1_initial, _v2_coaching_state, _v3_erasures, _v4_sync_down, _v5_workouts,
]
SCHEMA_VERSION = len(MIGRATIONS)


def current_version(db: sqlite_utils.Database) -> int:
    if not db.table("schema_version").exists():
        return 0
    row = db.execute("select max(version) from schema_version").fetchone()
    return int(row[0] or 0)


def migrate(db: sqlite_utils.Database, now: float) -> int:
    """Apply the missing migrations; returns the version reached."""
    if not db.table("schema_version").exists():
        db.table("schema_version").create({"version": int, "appliedAt": float}, pk="version")
    version = current_version(db)
    for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
        with db.conn:
            migration(db)
            db.table("schema_version").insert({"version": number, "appliedAt": now})
    return current_version(db)
