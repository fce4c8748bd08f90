"""The local HTTP API a companion app posts events and feedback to (DESIGN section 4)."""

from edgecoach.api.app import create_app
from edgecoach.api.port import DaemonPort, TalkDirection
from edgecoach.api.server import ApiServer, serve_api
from edgecoach.api.token import ensure_token

__all__ = [
    "ApiServer",
    "DaemonPort",
    "TalkDirection",
    "create_app",
    "ensure_token",
    "serve_api",
]
