"""Feedback on a spoken line, from any edge (CLI, API, earbud button): one way to do it."""

from edgecoach.contract import Feedback, VoiceResponse
from edgecoach.session.talk_budget import TalkBudget
from edgecoach.store import Store


def give_feedback(store: Store, response_id: str, feedback: Feedback) -> VoiceResponse:
    """Store the rating (queued upstream with its training record) and, when it says
    helpful or not, teach the talk budget how often this trigger should speak.

    One rating per line, the last wins: a line rated again moves its vote in the talk
    budget instead of adding one, and all of it is one transaction.
    """
    with store.database.transaction():
        before = store.responses.get(response_id).feedback
        response = store.responses.set_feedback(response_id, feedback)
        was = before.helpful if before else None
        if was != feedback.helpful:
            budget = TalkBudget(store.database)
            if was is not None:
                budget.unrate(response.user_id, response.trigger_id, was)
            if feedback.helpful is not None:
                budget.rate(response.user_id, response.trigger_id, feedback.helpful)
    return response
