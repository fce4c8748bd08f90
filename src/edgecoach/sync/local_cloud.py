"""What LocalConvex keeps, as the deployment keeps it: items by UUID, the cloud's
subscriptions and deletion requests, and the answers of the device's three functions
(convex/functions/edgecoach.ts: ingestBatch, deviceState, acknowledgeDeletion)."""

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from edgecoach.contract import Subscription, parse
from edgecoach.sync.cloud_rules import DEVICE_SETTINGS, item_problem, privacy_refusal

DAY_SECONDS = 24 * 3600
PROTOCOL_VERSION = 1
# What deviceState leaves out: the cloud's bookkeeping, and what only the device keeps.
NOT_SENT = ("usageStats", "isActive", "createdAt", "trainingPhase")


class DeviceForbidden(Exception):
    """The device's token does not cover that user (HTTP 403)."""


class LocalCloud:
    """Thread-safe: the HTTP handler threads and the test read it at once."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.items: dict[str, dict[str, Any]] = {}
        self.deliveries: Counter[str] = Counter()
        self.reject_ids: set[str] = set()
        # Users the device's token covers; None: any user.
        self.device_users: set[str] | None = None
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.deletions: dict[str, dict[str, Any]] = {}
        self.acknowledged: list[str] = []
        self.lock = threading.Lock()
        self._responses: dict[str, str] = {}  # stored voice_response id -> userId

    # --- what the cloud app does (tests call these) ---

    def update_subscription(self, user_id: str, **fields: Any) -> dict[str, Any]:
        """A partial update, as the deployment's updateSubscription (camelCase fields);
        nested objects are merged. The result is validated; updatedAt is now."""
        with self.lock:
            deletion = self.deletions.get(user_id)
            if deletion is not None and deletion["acknowledgedAt"] is None:
                raise ValueError("the user's data is being erased")
            current = self.subscriptions.get(user_id) or Subscription(
                user_id=user_id).to_json_dict()
            merged = {**current, **fields}
            for key in ("devicePreferences", "privacySettings"):
                merged[key] = {**current[key], **fields.get(key, {})}
            merged.pop("updatedAt", None)
            row = parse(Subscription, merged).to_json_dict()
            row["updatedAt"] = max(self.clock(), current.get("updatedAt", 0) + 0.001)
            self.subscriptions[user_id] = row
            return row

    def request_deletion(self, user_id: str, days: float = 0) -> None:
        """scheduleDataDeletion: the user's devices learn it and must acknowledge it."""
        with self.lock:
            now = self.clock()
            self.deletions.setdefault(user_id, {
                "requestedAt": now, "purgeAt": now + days * DAY_SECONDS,
                "acknowledgedAt": None})

    # --- the device's functions ---

    def ingest(self, items: list[Any]) -> dict[str, Any]:
        accepted: list[str] = []
        rejected: list[dict[str, str]] = []
        with self.lock:
            for item in items:
                item_id = item.get("id") if isinstance(item, dict) else None
                if not isinstance(item_id, str) or not item_id:
                    continue
                error = self._ingest_one(item)
                if error is None:
                    accepted.append(item_id)
                else:
                    rejected.append({"id": item_id, "error": error})
        return {"accepted": accepted, "rejected": rejected}

    def device_state(self, user_id: Any, since: Any) -> dict[str, Any]:
        if not isinstance(user_id, str):
            raise ValueError("userId: must be a string")
        self._check_device(user_id)
        after = float(since) if isinstance(since, int | float) else 0.0
        with self.lock:
            row = self.subscriptions.get(user_id)
            deletion = self.deletions.get(user_id)
        changed = row is not None and row["updatedAt"] > after
        subscription = ({key: value for key, value in row.items()
                         if key not in NOT_SENT} if changed and row else None)
        pending = deletion is not None and deletion["acknowledgedAt"] is None
        return {
            "protocol": PROTOCOL_VERSION, "userId": user_id,
            "cursor": max(after, row["updatedAt"] if row else 0.0),
            "subscription": subscription,
            "deletion": ({"requestedAt": deletion["requestedAt"],
                          "purgeAt": deletion["purgeAt"]} if pending and deletion else None),
        }

    def acknowledge_deletion(self, user_id: Any) -> dict[str, bool]:
        if not isinstance(user_id, str):
            raise ValueError("userId: must be a string")
        self._check_device(user_id)
        with self.lock:
            deletion = self.deletions.get(user_id)
            if deletion is None or deletion["acknowledgedAt"] is not None:
                return {"acknowledged": False}
            deletion["acknowledgedAt"] = self.clock()
            self.acknowledged.append(user_id)
            self._purge(user_id)
        return {"acknowledged": True}

    # --- inside ---

    def _check_device(self, user_id: str) -> None:
        if self.device_users is not None and user_id not in self.device_users:
            raise DeviceForbidden("this device may not act for that user")

    def _ingest_one(self, item: dict[str, Any]) -> str | None:
        problem = item_problem(item)
        if problem is not None:
            return problem
        item_id, user_id = item["id"], item["userId"]
        if self.device_users is not None and user_id not in self.device_users:
            return "this device may not write for that user"
        if item_id in self.items:
            self.deliveries[item_id] += 1
            return None
        if user_id in self.deletions:
            return "the user's data is being erased"
        row = self.subscriptions.get(user_id)
        refusal = privacy_refusal(item["kind"], row["privacySettings"] if row else None)
        if refusal is not None:
            return refusal
        if item_id in self.reject_ids:
            return "refused by the deployment"
        record = item["record"]
        if item["kind"] == "feedback" and self._responses.get(record["responseId"]) != user_id:
            return "unknown response"
        if item["kind"] == "subscription":
            self._take_device_settings(record)
        if item["kind"] == "voice_response":
            self._responses[record["id"]] = user_id
        self.deliveries[item_id] += 1
        self.items[item_id] = item
        return None

    def _take_device_settings(self, record: dict[str, Any]) -> None:
        """The device's preferences when newer than the cloud's; never its tier."""
        user_id = record["userId"]
        row = self.subscriptions.get(user_id)
        if row is None:
            row = Subscription(user_id=user_id).to_json_dict()
            row.pop("trainingPhase")
            row["updatedAt"] = float("-inf")
        if record["updatedAt"] > row["updatedAt"]:
            row |= {key: record[key] for key in DEVICE_SETTINGS}
            row["updatedAt"] = record["updatedAt"]
        self.subscriptions[user_id] = row

    def _purge(self, user_id: str) -> None:
        """Every item and setting of the user (the request itself is kept, acknowledged)."""
        for item_id in [i for i, item in self.items.items() if item["userId"] == user_id]:
            del self.items[item_id]
        self.subscriptions.pop(user_id, None)
        for response_id in [r for r, user in self._responses.items() if user == user_id]:
            del self._responses[response_id]
