"""The end-to-end benchmark's account of set lines that were not cache hits."""

import numpy as np

from edgecoach.bench.e2e import describe, not_hits
from edgecoach.contract import WorkoutContext, WorkoutEvent
from edgecoach.pipeline import Outcome
from edgecoach.replay_coach import ReplayReport
from edgecoach.voice import SpokenLine


def outcome(trigger: str, hit: bool, joined: bool, written_ahead: bool) -> Outcome:
    event = WorkoutEvent(trigger_id=trigger, user_id="bench",
                         context=WorkoutContext(exercise="squat", set_number=1))
    line = SpokenLine("Good set.", np.zeros(10, dtype=np.int16), 22050, "key", hit, 1.0,
                      prepared=joined)
    return Outcome(event, "spoken", spoken=line, ready_ms=1.0, prepared=written_ahead)


def test_a_set_line_not_a_hit_is_joined_queued_or_written_at_the_event() -> None:
    outcomes = [outcome("set-start", hit=True, joined=False, written_ahead=True),
                outcome("set-end", hit=False, joined=True, written_ahead=True),
                outcome("set-start", hit=False, joined=False, written_ahead=True),
                outcome("set-end", hit=False, joined=False, written_ahead=False),
                outcome("set-end", hit=False, joined=False, written_ahead=False)]
    assert not_hits(outcomes) == "joined 1, queued 1, written at the event 2"
    report = ReplayReport(outcomes=[*outcomes,
                                    outcome("pre-start", hit=False, joined=False,
                                            written_ahead=False)])
    figures = describe(report, cpu=1.0)
    assert figures["set hit ratio"] == "1/5 = 20%"
    assert figures["set not hits, why"] == "joined 1, queued 1, written at the event 2"
