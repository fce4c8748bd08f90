"""One root error with typed subclasses; exit codes and HTTP statuses are decided at the edges."""


class EdgeCoachError(Exception):
    """Root of every error EdgeCoach raises on purpose."""


class ConfigError(EdgeCoachError):
    """A configuration file or setting is missing or invalid (names file, key and reason)."""


class ValidationFailed(EdgeCoachError):
    """Input failed validation; the message names the field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class NotFound(EdgeCoachError):
    """A record asked for by id does not exist."""


class StoreError(EdgeCoachError):
    """The database cannot be opened or written (not SQLite, disk full, ...)."""


class LimitExceeded(EdgeCoachError):
    """A rate limit or daily limit denied the request."""


class ModelError(EdgeCoachError):
    """The coach model is missing, corrupt or does not match its manifest."""


class VoiceError(EdgeCoachError):
    """A Piper voice is missing or corrupt, or synthesis failed."""


class AudioOutputError(EdgeCoachError):
    """No usable audio output device."""


class SourceError(EdgeCoachError):
    """An event source (BLE, BlueZ, recording) failed."""


class RecordingError(SourceError):
    """A workout recording is unreadable or corrupt."""


class UpstreamError(EdgeCoachError):
    """The upstream (Convex) refused or failed a request."""


class Busy(EdgeCoachError):
    """The daemon cannot take more work right now (a full queue); the caller may retry."""


class Conflict(EdgeCoachError):
    """A record with this id exists and differs: it is never replaced (HTTP 409)."""


class UserErased(EdgeCoachError):
    """The user was erased; nothing is stored for them until a new subscription (409)."""


class AlreadyRunning(EdgeCoachError):
    """Another daemon holds the data dir's lock (names its pid)."""


class DaemonFailed(EdgeCoachError):
    """An essential task of the daemon (API, consumer) ended: the daemon stopped."""


class UpstreamUnavailable(UpstreamError):
    """The upstream did not take a request this time (5xx, 429, timeout, reset, bad reply).

    Retryable: `retry_after` is the wait the server asked for (seconds), if any.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UpstreamOffline(UpstreamUnavailable):
    """No route to the upstream (connection refused, DNS failure): the device is offline."""


class UpstreamRejected(UpstreamUnavailable):
    """The deployment answered but refused the call (`{"status": "error"}`, HTTP 4xx)."""


class NotTheDaemon(EdgeCoachError):
    """What answered at the daemon's local socket is not this user's EdgeCoach daemon."""


class UpstreamForbidden(UpstreamRejected):
    """The device's token does not cover that user (HTTP 403): that user only is skipped."""
