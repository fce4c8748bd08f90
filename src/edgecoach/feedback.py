"""Feedback on a spoken line, from any edge (CLI, API, earbud button): one way to do it."""

from edgecoach.contract import Feedback, VoiceResponse
from edgecoach.session.talk_budget import TalkBudget
from edgecoach.store import Store


def give_feedback(store: Store, response_id: str, feedback: Feedback) -> VoiceResponse:
    """Store the rating (queued upstream with its training record) and, when it says
    helpful or not, teach the talk budget how often this trigger should speak."""
    response = store.responses.set_feedback(response_id, feedback)
    if feedback.helpful is not None:
        TalkBudget(store.database).rate(response.user_id, response.trigger_id, feedback.helpful)
    return response
