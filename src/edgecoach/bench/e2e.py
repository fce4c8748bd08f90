"""End-to-end benchmark: the real pipeline coaching replayed workouts.

    python -m edgecoach.bench e2e [--speed 60] [--idle-seconds 10] [--pi-class]

For each recording, twice (speculative synthesis off, then on), each time on a fresh
database (an empty audio cache): event -> audio-ready latency p50/p95 for cache hits
and misses (a miss is ready when its first piece is: the line plays as it is made; a line
joined from its speculative synthesis is neither), how long a synthesized line waited,
live, for turns of the voice (behind speculation), the share of set-start/set-end lines
that were cache hits, that were ready ahead (a hit or joined) and why the others were not
hits (joined, queued or written at the event), generation and TTS
times, CPU seconds per coached line. Then the idle daemon's CPU use and the peak RSS.
"""

import argparse
import asyncio
import resource
import tempfile
import time
from pathlib import Path

from edgecoach.audio import NullSink, Player
from edgecoach.bench.pi_class import HELP, voice_threads
from edgecoach.contract import Subscription
from edgecoach.daemon import Daemon, build_parts
from edgecoach.forecast import SET_TRIGGERS
from edgecoach.paths import DATA_DIR
from edgecoach.pipeline import CoachingPipeline, Outcome
from edgecoach.replay_coach import ReplayReport, coach_recording, percentile
from edgecoach.session.talk_budget import TalkBudget
from edgecoach.settings import Settings, load_settings

RECORDINGS = [DATA_DIR / "recordings" / "strength-session.jsonl",
              DATA_DIR / "recordings" / "2013-02-06-12-11-14.fit"]
USER = "bench"


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def coach_once(settings: Settings, recording: Path, speed: float,
                     speculate: bool) -> tuple[ReplayReport, float]:
    parts = build_parts(settings, player=Player(NullSink()))
    parts.devices.has_earbuds = True
    parts.store.subscriptions.put(Subscription(user_id=USER, subscription_type="trainer"))
    # Every set line may speak, so the hit ratio covers all of them.
    TalkBudget(parts.store.database).set_chattiness(USER, "chatty")
    pipeline = CoachingPipeline(parts, speculate=speculate)
    await parts.player.start()
    started = cpu_seconds()
    report = await coach_recording(pipeline, settings, recording, USER, speed)
    used = cpu_seconds() - started
    await pipeline.close()
    await parts.player.close()
    parts.store.close()
    return report, used


def not_hits(outcomes: list[Outcome]) -> str:
    """Why spoken lines were not cache hits: joined (made ahead, unfinished when the event
    came), queued (written ahead, its synthesis not started), written at the event (none
    was written ahead, or the one written no longer fitted)."""
    missed = [o for o in outcomes if o.spoken and not o.spoken.cache_hit]
    joined = sum(o.spoken.prepared for o in missed if o.spoken)
    queued = sum(o.prepared for o in missed if o.spoken and not o.spoken.prepared)
    return (f"joined {joined}, queued {queued}, "
            f"written at the event {len(missed) - joined - queued}")


def describe(report: ReplayReport, cpu: float) -> dict[str, object]:
    spoken = report.spoken
    sets = [o.spoken for o in spoken if o.event.trigger_id in SET_TRIGGERS and o.spoken]
    hits = [o.ready_ms for o in spoken if o.spoken and o.spoken.cache_hit]
    joined = [o.ready_ms for o in spoken if o.spoken and o.spoken.prepared]
    missed = [o for o in spoken
              if o.spoken and not o.spoken.cache_hit and not o.spoken.prepared]
    misses = [o.ready_ms for o in missed]
    tts = [o.response.metadata.tts_latency for o in missed if o.response]
    ahead = sum(line.cache_hit or line.prepared for line in sets)
    waits = [o.spoken.waited_ms for o in spoken if o.spoken and not o.spoken.cache_hit]
    generation = [o.response.metadata.generation_latency for o in spoken
                  if o.response and not o.prepared]
    return {
        "lines": len(spoken),
        "set hit ratio": f"{sum(line.cache_hit for line in sets)}/{len(sets)}"
                         f" = {sum(line.cache_hit for line in sets) / max(1, len(sets)):.0%}",
        "set ready ahead": f"{ahead}/{len(sets)} = {ahead / max(1, len(sets)):.0%}"
                           " (a hit or joined)",
        "set not hits, why": not_hits([o for o in spoken
                                       if o.event.trigger_id in SET_TRIGGERS]),
        "ready hit p50/p95 ms": (percentile(hits, 50), percentile(hits, 95)),
        "ready joined p50/p95 ms": (len(joined), percentile(joined, 50),
                                    percentile(joined, 95)),
        "ready miss p50/p95 ms": (percentile(misses, 50), percentile(misses, 95)),
        "live wait p95/max ms": (percentile(waits, 95), percentile(waits, 100)),
        "generation p50/p95 ms": (percentile(generation, 50), percentile(generation, 95)),
        "tts (miss) p50/p95 ms": (percentile(tts, 50), percentile(tts, 95)),
        "cpu s per line": round(cpu / max(1, len(spoken)), 3),
    }


async def idle_cpu(settings: Settings, seconds: float) -> float:
    """CPU share of one core used by a daemon with no events (API and sync running)."""
    daemon = Daemon(settings, build_parts(settings))
    task = asyncio.create_task(daemon.run())
    await asyncio.sleep(2)  # start-up work is not idle
    started, wall = cpu_seconds(), time.monotonic()
    await asyncio.sleep(seconds)
    share = (cpu_seconds() - started) / (time.monotonic() - wall)
    daemon.stop.set()
    await task
    return share


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m edgecoach.bench e2e")
    parser.add_argument("--speed", type=float, default=60.0)
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--pi-class", action="store_true", help=HELP)
    args = parser.parse_args(argv)
    threads = voice_threads(args.pi_class)
    for recording in RECORDINGS:
        for speculate in (False, True):
            with tempfile.TemporaryDirectory() as data_dir:
                settings = load_settings(data_dir=Path(data_dir), voice_threads=threads)
                report, cpu = asyncio.run(coach_once(settings, recording, args.speed,
                                                     speculate))
            print(f"{recording.name} speed {args.speed:g}, speculative synthesis "
                  f"{'on' if speculate else 'off'}:")
            for name, value in describe(report, cpu).items():
                print(f"  {name:<24} {value}")
    with tempfile.TemporaryDirectory() as data_dir:
        settings = load_settings(data_dir=Path(data_dir), voice_threads=threads)
        settings.api.port = 0
        share = asyncio.run(idle_cpu(settings, args.idle_seconds))
    print(f"idle daemon CPU: {share:.2%} of one core over {args.idle_seconds:g} s")
    print(f"peak RSS: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
