"""`python -m edgecoach.bench report`: recording a long workout and rendering its report.

Records `--hours` of a workout at 1 Hz into a fresh SQLite store through the daemon's own
recorder (session/recorder.py: strain per reading, batches of FLUSH_EVERY), with an
event every 3 minutes (held back) and one spoken line with a real cached clip every 15,
then renders its report page. Prints the recording time per sample, the rendering time
and the page's size.
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from edgecoach.contract import TriggerId, VoiceResponse, WorkoutContext, WorkoutEvent
from edgecoach.report import workout_report_html
from edgecoach.session.recorder import WorkoutRecorder
from edgecoach.settings import AthleteSettings, StrainSettings
from edgecoach.store import Store
from edgecoach.voice.cache import AudioCache
from edgecoach.voice.synthesizer import Audio

USER_ID = "bench-athlete"
EVENT_EVERY_S = 180
SPOKEN_EVERY_S = 900
CLIP = Audio((np.sin(np.arange(3 * 22050) / 22050 * 2 * np.pi * 220) * 8000).astype(np.int16),
             22050)


def record(store: Store, hours: float) -> tuple[str, float]:
    recorder = WorkoutRecorder(store.workouts, USER_ID, "bench", AthleteSettings(age=40),
                               StrainSettings())
    cache = AudioCache(store.database, 10**9, 10**9)
    start = time.time()
    seconds = int(hours * 3600)
    began = time.perf_counter()
    for offset in range(seconds + 1):
        if offset == 0 or offset % EVENT_EVERY_S == 0:
            trigger: TriggerId = "pre-start" if offset == 0 else "strainsync"
            event = WorkoutEvent(trigger_id=trigger, user_id=USER_ID, timestamp=start + offset,
                                 context=WorkoutContext(strain=10.0))
            recorder.on_event(event)
            store.responses.record_event(event)
            if offset % SPOKEN_EVERY_S == 0:
                key = f"bench-{offset}"
                cache.put(key, "alice", CLIP)
                store.responses.add(VoiceResponse(
                    user_id=USER_ID, trigger_id=trigger, persona_id="alice",
                    text_content=f"Line at {offset} seconds.", audio_key=key,
                    workout_context=event.context, event_id=event.id))
            else:
                store.responses.mark_event(event.id, "suppressed", "cooldown")
            recorder.on_handled(event)
        recorder.on_sample(100 + offset % 80, start + offset)
        if recorder.flush_due:
            recorder.flush()
    workout = recorder.finish(start + seconds)
    assert workout is not None
    return workout.id, time.perf_counter() - began


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m edgecoach.bench report")
    parser.add_argument("--hours", type=float, default=2.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        store = Store.open(Path(directory) / "bench.db")
        try:
            workout_id, recording_s = record(store, args.hours)
            samples = len(store.workouts.samples(workout_id))
            events = len(store.workouts.events(workout_id))
            began = time.perf_counter()
            page = workout_report_html(store, workout_id)
            render_s = time.perf_counter() - began
        finally:
            store.close()
    print(f"{args.hours:g} h: {samples} samples, {events} events; recording "
          f"{recording_s * 1000 / samples:.3f} ms/sample (incl. events); report "
          f"{render_s:.2f} s, {len(page) / 1e6:.1f} MB")
