"""`edgecoach replay`: coach a recorded workout as if live (or just print its events)."""

import asyncio
import math
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from edgecoach.cli import app
from edgecoach.cli.common import settings
from edgecoach.contract import PERSONA_IDS, WorkoutEvent
from edgecoach.errors import ValidationFailed
from edgecoach.report import check_out_path
from edgecoach.session.talk_budget import CHATTINESS_LEVELS
from edgecoach.settings import Settings
from edgecoach.sources import HeartRateSample, ReplayItem, StrainMeter, replay


@app.command("replay")
def replay_command(
    file: Annotated[Path, typer.Argument(
        help="A FIT activity file, or a strength script (.jsonl).")],
    speed: Annotated[float, typer.Option(
        "--speed", help="1 = real time, 60 = a minute a second, 0 = as fast as possible.")
    ] = 1.0,
    persona: Annotated[str | None, typer.Option(
        "--persona", help="alice or aiden (default: from settings).")] = None,
    samples: Annotated[bool, typer.Option(
        "--samples/--no-samples", help="Also print every heart-rate sample.")] = False,
    events_only: Annotated[bool, typer.Option(
        "--events-only", help="Print the events only; no coaching (no model, no voice).")
    ] = False,
    transcript: Annotated[Path | None, typer.Option(
        "--transcript", help="Write one JSON line per line spoken or held back, and why.")
    ] = None,
    chattiness: Annotated[str | None, typer.Option(
        "--chattiness", help="quiet, normal or chatty for this replay.")] = None,
    report: Annotated[Path | None, typer.Option(
        "--report", help="Write the workout's HTML report (chart, every line) to this file.")
    ] = None,
) -> None:
    """Replay a recorded workout as a live one, coaching it (or printing its events)."""
    config = settings()
    chosen = persona or config.persona
    if chosen not in PERSONA_IDS:
        raise ValidationFailed("persona", f"must be one of {', '.join(PERSONA_IDS)}")
    if speed < 0 or math.isnan(speed):
        raise ValidationFailed("speed", "must be 0 (as fast as possible) or positive")
    if chattiness is not None and chattiness not in CHATTINESS_LEVELS:
        raise ValidationFailed("chattiness", f"must be one of {', '.join(CHATTINESS_LEVELS)}")
    if not file.is_file():
        raise ValidationFailed("FILE", f"{file} is not a file")
    if report is not None:
        check_out_path(report, "--report")
    print(f"replaying {file.name} (persona {chosen}, speed {speed:g})", flush=True)
    if events_only:
        print_events(file, config, speed, samples)
        return
    from edgecoach.demo import DemoOptions, print_summary, run_demo

    options = DemoOptions(persona=chosen, speed=speed, recording=file,  # type: ignore[arg-type]
                          transcript=transcript, chattiness=chattiness, report=report)
    console = Console()
    print_summary(asyncio.run(run_demo(config, options, console)), options, console)


def print_events(file: Path, config: Settings, speed: float, samples: bool) -> None:
    meter = StrainMeter.from_settings(config.athlete, config.strain)

    async def run() -> None:
        async for item in replay(file, config.user_id, speed=speed, meter=meter):
            if isinstance(item.payload, WorkoutEvent) or (
                    samples and isinstance(item.payload, HeartRateSample)):
                print(format_item(item), flush=True)

    asyncio.run(run())


def format_item(item: ReplayItem) -> str:
    """'00:09:39  set-end      exercise=run setNumber=1 heartRate=146 ...'"""
    minutes, seconds = divmod(int(item.offset), 60)
    hours, minutes = divmod(minutes, 60)
    clock = f"{hours:02d}:{minutes:02d}:{seconds:02d}"
    payload = item.payload
    if isinstance(payload, HeartRateSample):
        return f"{clock}  {'hr':<12} {payload.bpm} bpm"
    assert isinstance(payload, WorkoutEvent)  # print_events passes only events and samples
    context = payload.context.to_json_dict()
    details = " ".join(f"{key}={value:g}" if isinstance(value, float) else f"{key}={value}"
                       for key, value in context.items()
                       if value is not None and value is not False)
    return f"{clock}  {payload.trigger_id:<12} {details}"
