"""EdgeCoach: an offline workout-coaching daemon."""

__version__ = "0.1.0"
