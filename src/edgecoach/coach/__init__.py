"""The coach: when to speak (policy, situation tags) and what to say (the line generator)."""

from edgecoach.coach.generator import GeneratedLine, LineGenerator
from edgecoach.coach.policy import CoachPolicy, Decision
from edgecoach.coach.sampling import SamplingSettings
from edgecoach.coach.tags import situation_tags

__all__ = [
    "CoachPolicy",
    "Decision",
    "GeneratedLine",
    "LineGenerator",
    "SamplingSettings",
    "situation_tags",
]
