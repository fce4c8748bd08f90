"""What every route reaches through `request.app.state.context`."""

from dataclasses import dataclass

from fastapi import Request

from edgecoach.api.port import DaemonPort
from edgecoach.errors import ValidationFailed
from edgecoach.store import Store


@dataclass(frozen=True)
class ApiContext:
    store: Store
    daemon: DaemonPort
    # The daemon's athlete, used when a request names no user.
    user_id: str | None = None

    def user_or_default(self, user_id: str | None) -> str:
        chosen = user_id or self.user_id
        if chosen is None:
            raise ValidationFailed("query.userId", "required: the daemon has no default user")
        return chosen


def get_context(request: Request) -> ApiContext:
    return request.app.state.context
