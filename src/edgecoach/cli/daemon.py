"""`edgecoach run` (the daemon) and `edgecoach demo` (coach a bundled real workout)."""

import asyncio
import logging
import math
import sys
from pathlib import Path

import typer
from rich.console import Console

from edgecoach.cli import app
from edgecoach.cli.common import output_dir, settings
from edgecoach.contract.vocabulary import PersonaId
from edgecoach.errors import DaemonFailed, ValidationFailed

LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"  # journald adds the time


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format=LOG_FORMAT, stream=sys.stderr)


@app.command()
def run() -> None:
    """Run the daemon in the foreground (as the systemd service does) until SIGTERM."""
    from edgecoach.daemon import Daemon, build_parts, make_sources
    from edgecoach.daemon_lock import DataDirLock
    from edgecoach.memory import limit_heap_arenas
    from edgecoach.store import Store

    limit_heap_arenas()
    config = settings()
    configure_logging(config.log_level)
    lock = DataDirLock(config.data_dir).acquire()  # before anything reads the store
    store = Store.open(config.database_path, quarantine_corrupt=True)
    parts = build_parts(config, store=store)
    subscription = parts.store.subscriptions.get(config.user_id)

    async def main() -> None:
        await Daemon(config, parts, make_sources(config, subscription)).run()

    try:
        asyncio.run(main())
    except DaemonFailed as failure:
        # Not a user error (exit 2): a task died; exit 1 so the service manager restarts.
        print(f"edgecoach: error: {failure}", file=sys.stderr)
        raise typer.Exit(1) from None
    finally:
        lock.release()


@app.command()
def demo(
    out: Path = typer.Option(Path("demo-out"), "--out", help="Folder for WAV files, "
                             "transcript.jsonl and report.html: a new or empty one (or one "
                             "an earlier demo made)."),
    persona: PersonaId = typer.Option("alice", "--persona", help="alice or aiden."),
    speed: float = typer.Option(0.0, "--speed", help="Replay speed: 0 = as fast as possible, "
                                "1 = real time, 60 = a minute a second."),
    recording: Path | None = typer.Option(None, "--recording", help="Another FIT file or "
                                          ".jsonl strength script to coach."),
) -> None:
    """Coach a real recorded workout: write every line as WAV, play it when a device exists."""
    from edgecoach.demo import (
        DEFAULT_RECORDING,
        TRANSCRIPT_NAME,
        DemoOptions,
        print_summary,
        run_demo,
    )

    if speed < 0 or math.isnan(speed):
        raise ValidationFailed("--speed", "must be 0 (as fast as possible) or positive")
    output_dir(out, "--out")
    config = settings()
    configure_logging("WARNING")
    options = DemoOptions(persona=persona, speed=speed,
                          recording=recording or DEFAULT_RECORDING, wav_dir=out,
                          transcript=out / TRANSCRIPT_NAME, report=out / "report.html")
    console = Console(stderr=False)
    console.print(f"EdgeCoach demo: coaching {options.recording.name} with {persona}.")
    report = asyncio.run(run_demo(config, options, console))
    print_summary(report, options, console)
