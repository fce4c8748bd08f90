"""`edgecoach demo`: coach a real recorded workout, writing every line as WAV.

The demo has its own database (demo.db beside the daemon's) whose audio cache is kept
between runs, so a second run is fast; everything else of the demo user starts afresh.
The demo acts as if earbuds were connected, so every trigger can speak.
"""

import asyncio
import json
import re
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from edgecoach.audio import Player, TeeSink, WavDirSink, make_output
from edgecoach.contract import Subscription
from edgecoach.contract.vocabulary import PersonaId
from edgecoach.daemon import build_parts
from edgecoach.errors import ValidationFailed
from edgecoach.paths import DATA_DIR
from edgecoach.pipeline import CoachingPipeline, Outcome
from edgecoach.replay_coach import ReplayReport, coach_recording
from edgecoach.session.talk_budget import TalkBudget
from edgecoach.settings import Settings
from edgecoach.sources import plan_recording, read_fit, read_script
from edgecoach.sources.script import SCRIPT_SUFFIXES
from edgecoach.store import Store
from edgecoach.transcript import Transcript

DEMO_USER = "demo"
OUT_DIR_MARKER = ".edgecoach-demo"
TRANSCRIPT_NAME = "transcript.jsonl"
DEMO_WAV = re.compile(r"\d{4}-[a-z0-9-]+\.wav")
DEFAULT_RECORDING = DATA_DIR / "recordings" / "2013-02-06-12-11-14.fit"


@dataclass(frozen=True)
class DemoOptions:
    """What to coach and where it goes. `wav_dir` None: the configured audio output."""

    persona: PersonaId
    speed: float
    recording: Path = DEFAULT_RECORDING
    wav_dir: Path | None = None
    transcript: Path | None = None
    chattiness: str | None = None
    report: Path | None = None  # an HTML report of the workout (edgecoach.report)


def workout_length(path: Path, settings: Settings) -> float:
    """Seconds of workout, for the progress bar (a quick read of the file)."""
    from edgecoach.sources import StrainMeter
    from edgecoach.sources.script import plan_script

    if path.suffix.lower() in SCRIPT_SUFFIXES:
        plan = plan_script(read_script(path))
    else:
        plan = plan_recording(read_fit(path), StrainMeter.from_settings(settings.athlete))
    return max((planned.offset for planned in plan), default=0.0)


def prepare_demo_store(settings: Settings, options: DemoOptions) -> Store:
    store = Store.open(settings.data_dir / "demo.db")
    store.retention.delete_user(DEMO_USER, keep_audio=True)
    store.subscriptions.put(Subscription(user_id=DEMO_USER, subscription_type="trainer",
                                         preferred_persona=options.persona))
    if options.chattiness:
        TalkBudget(store.database).set_chattiness(DEMO_USER, options.chattiness)
    return store


def prepare_out_dir(directory: Path) -> None:
    """A folder the demo owns: a new or empty one (marked as the demo's), or one the demo
    marked before, from which only its own files (NNNN-label.wav, the transcript) go.
    Anything else is refused and left untouched: the demo deletes only what it wrote."""
    marker = directory / OUT_DIR_MARKER
    if directory.is_symlink() or (directory.exists() and not directory.is_dir()):
        raise ValidationFailed("--out", f"{directory} is not a directory")
    if marker.is_file():
        for old in directory.iterdir():
            if old.is_file() and not old.is_symlink() and (
                    DEMO_WAV.fullmatch(old.name) or old.name == TRANSCRIPT_NAME):
                old.unlink()
        return
    if directory.exists() and any(directory.iterdir()):
        raise ValidationFailed("--out", f"{directory} is not empty and was not made by "
                               "edgecoach demo; give a new or empty folder")
    directory.mkdir(parents=True, exist_ok=True)
    marker.write_text("Written by edgecoach demo: its WAV files and transcript are "
                      "replaced on each run.\n", encoding="utf-8")


def make_player(settings: Settings, options: DemoOptions) -> Player:
    if options.wav_dir is None:
        return Player(make_output(settings.audio))
    speaker = make_output(settings.audio.model_copy(update={"output": "auto"}))
    return Player(TeeSink(WavDirSink(options.wav_dir), speaker))


async def run_demo(settings: Settings, options: DemoOptions, console: Console) -> ReplayReport:
    # Paths first: a refused one leaves everything (files, the demo's database) as it was.
    if options.wav_dir is not None:
        prepare_out_dir(options.wav_dir)
    transcript = Transcript(options.transcript, fresh=True) if options.transcript else None
    store = prepare_demo_store(settings, options)
    console.print(f"Loading the coach model and the {options.persona} voice...")
    parts = build_parts(settings, store=store, player=make_player(settings, options))
    parts.devices.has_earbuds = True
    pipeline = CoachingPipeline(parts, transcript)
    total = workout_length(options.recording, settings)
    await parts.player.start()
    try:
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                      TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(),
                      console=console, transient=False) as bar:
            task = bar.add_task("workout", total=max(total, 1.0))

            def show(offset: float, outcome: Outcome | None) -> None:
                if outcome:
                    bar.console.print(describe_outcome(offset, outcome), highlight=False,
                                      markup=False)  # '[' in a line is text
                bar.update(task, completed=offset)

            report = await coach_recording(pipeline, settings, options.recording, DEMO_USER,
                                           options.speed, show)
            bar.update(task, completed=max(total, 1.0))
        if options.report and report.workout_id:
            from edgecoach.report import write_report

            await asyncio.to_thread(write_report, store, report.workout_id, options.report)
    finally:
        await pipeline.close()
        await parts.player.close()
        parts.voice.cache.flush_hits()
        if transcript:
            transcript.close()
        store.close()
    if isinstance(parts.player.sink, TeeSink) and (failure := parts.player.sink.wav_failure()):
        raise failure  # a full disk: the run is not whole, and says so
    return report


def describe_outcome(offset: float, outcome: Outcome) -> str:
    """'00:09:39     set-end  "Lap done..."' or '... held back: cooldown'."""
    minutes, seconds = divmod(int(offset), 60)
    hours, minutes = divmod(minutes, 60)
    head = f"{hours:02d}:{minutes:02d}:{seconds:02d} {outcome.event.trigger_id:>12}"
    if outcome.response:
        return f"{head}  \"{outcome.response.text_content}\""
    return f"{head}  ({outcome.status}: {outcome.reason})"


def print_summary(report: ReplayReport, options: DemoOptions, console: Console) -> None:
    summary = report.summary()
    console.print(f"\n[bold]{summary['linesSpoken']} lines[/] spoken by {options.persona} "
                  f"over {summary['workoutSeconds']:.0f} s of workout "
                  f"({summary['suppressed']} held back, {summary['cacheHits']} cache hits).")
    if options.wav_dir:
        console.print(f"WAV files in {options.wav_dir}")
    if options.transcript:
        console.print(f"Transcript in {options.transcript}")
    if options.report:
        console.print(f"Report in {options.report}")
    console.print_json(json.dumps(summary))
