"""`python -m edgecoach.bench preemption`: a live line that meets a speculative synthesis.

The replays of `bench e2e` rarely start a live line while a speculative one is in a
step. Here each trial starts the speculative synthesis of a long line, waits a random
0-0.6 s (so the live request falls anywhere in its steps), then asks for a short live
line and times its first audio; the same line with no speculation under way gives the
base. The delay is the difference, per trial: p50 / p95 / max.
"""

import argparse
import random
import tempfile
import time
from pathlib import Path

import numpy as np

from edgecoach.bench.pi_class import HELP, voice_threads
from edgecoach.catalog import load_catalog
from edgecoach.settings import load_settings
from edgecoach.store import Store
from edgecoach.voice import VoiceService

PERSONA = "alice"
SPECULATIVE = ("Set four is coming up next: eight reps of back squat at eighty kilos. Keep "
               "your chest up, brace before you go down, and drive through your whole foot.")
LIVE = "Good set. Rest now and breathe."


def first_audio_ms(voice: VoiceService, text: str) -> float:
    started = time.perf_counter()
    stream = voice.open(PERSONA, text)
    stream.wait_first()
    elapsed = (time.perf_counter() - started) * 1000
    stream.result()
    return elapsed


def trials(voice: VoiceService, count: int, rng: random.Random) -> list[float]:
    delays = []
    for number in range(count):
        alone = first_audio_ms(voice, f"{LIVE} {number}a.")
        speculative = voice.open(PERSONA, f"{SPECULATIVE} {number}.", live=False)
        time.sleep(rng.uniform(0.0, 0.6))
        met = first_audio_ms(voice, f"{LIVE} {number}b.")
        speculative.result()
        delays.append(met - alone)
    return delays


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m edgecoach.bench preemption")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--pi-class", action="store_true", help=HELP)
    args = parser.parse_args(argv)
    threads = voice_threads(args.pi_class)
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=Path(tmp), voice_threads=threads)
        store = Store.open(Path(tmp) / "edgecoach.db")
        voice = VoiceService.load(load_catalog(settings.config_dir).personas, store.database,
                                  settings.cache, settings.models_dir, threads)
        delays = trials(voice, args.trials, random.Random(16))
        store.close()
    print(f"live first audio, delayed by a speculative synthesis under way ({args.trials} "
          f"trials): p50 {np.percentile(delays, 50):.0f} ms  p95 "
          f"{np.percentile(delays, 95):.0f} ms  max {max(delays):.0f} ms")


if __name__ == "__main__":
    main()
