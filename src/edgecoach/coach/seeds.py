"""Seeds from an event's content, so replaying a workout makes the same choices."""

import hashlib
import json

from edgecoach.contract import WorkoutContext


def content_seed(user_id: str, trigger_id: str, context: WorkoutContext) -> int:
    content = json.dumps([user_id, trigger_id, context.to_json_dict()], sort_keys=True)
    return int.from_bytes(hashlib.sha256(content.encode()).digest()[:8], "big")
