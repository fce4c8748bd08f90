"""`edgecoach setup`: the first run in the terminal. Every answer can also be given by a
flag; with --yes, or without a terminal, nothing is asked (flags, else current values).
A bad answer is asked again with the reason; a bad flag exits 2. Nothing is written
until every answer is in, so Ctrl-C leaves the old settings untouched."""

import sys
from collections.abc import Callable
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from edgecoach.catalog import load_catalog
from edgecoach.cli import app
from edgecoach.cli.common import print_json, settings
from edgecoach.cli.devices import MAX_SCAN_SECONDS, with_bluez
from edgecoach.devices import BluetoothError, Device, check_address
from edgecoach.errors import ValidationFailed
from edgecoach.first_run import (
    SetupAnswers,
    apply_answers,
    check_athlete,
    check_chattiness,
    check_persona,
    parse_whole_number,
    settings_target,
    zones,
)
from edgecoach.settings import AthleteSettings, Settings, settings_file

T = TypeVar("T")
TEST_LINE = "All set. I am {name}, your coach. See you at the start line."


def ask(console: Console, question: str, check: Callable[[str], T], default: str = "") -> T:
    """Ask until `check` accepts the answer; each refusal says why."""
    while True:
        answer = typer.prompt(question, default=default, show_default=bool(default))
        try:
            return check(answer)
        except ValidationFailed as error:
            console.print(f"[red]{error.reason}[/] - try again", highlight=False)


class Voices:
    """The persona voices, loaded on first use (Piper takes a second or two)."""

    def __init__(self, config: Settings, enabled: bool) -> None:
        self.config, self.enabled = config, enabled
        self._speak: Callable[[str, str], None] | None = None

    def say(self, persona: str, text: str) -> None:
        if not self.enabled:
            return
        if self._speak is None:
            from edgecoach.audio import make_output
            from edgecoach.store import Store
            from edgecoach.voice import VoiceService

            store = Store.open(self.config.database_path)
            catalog = load_catalog(self.config.config_dir)
            voice = VoiceService.load(catalog.personas, store.database, self.config.cache,
                                      self.config.models_dir)
            sink = make_output(self.config.audio)

            def speak(persona_id: str, line: str) -> None:
                sink.play(voice.open(persona_id, line), "setup")
                voice.flush()

            self._speak = speak
        self._speak(persona, text)


def choose_coach(console: Console, config: Settings, given: str | None, interactive: bool,
                 voices: Voices) -> str:
    if given is not None:
        return check_persona(given)
    if not interactive:
        return config.persona
    catalog = load_catalog(config.config_dir)
    for persona_id, persona in catalog.personas.items():
        console.print(f"[bold]{persona_id}[/]: {persona.description}", highlight=False)
        voices.say(persona_id, f"Hi, I am {persona.name}. {persona.description}")
    return ask(console, "Coach (alice or aiden)", check_persona, config.persona)


def heart_rate(console: Console, current: AthleteSettings, age: int | None,
               max_hr: int | None, resting_hr: int | None, interactive: bool) -> AthleteSettings:
    flags_given = any(value is not None for value in (age, max_hr, resting_hr))
    if flags_given or not interactive:
        if not flags_given:
            return current
        return check_athlete(age, max_hr, resting_hr)
    console.print("Heart rate: give your age, or your maximum heart rate; "
                  "a resting heart rate makes the zones fit you better (blank to skip).",
                  highlight=False)
    answers = (current.age, current.max_heart_rate, current.resting_heart_rate)
    while True:  # a second round offers the first round's answers as defaults
        answers = (
            ask(console, "Age", lambda t: parse_whole_number("age", t), _text(answers[0])),
            ask(console, "Maximum heart rate", lambda t: parse_whole_number(
                "maximum heart rate", t), _text(answers[1])),
            ask(console, "Resting heart rate", lambda t: parse_whole_number(
                "resting heart rate", t), _text(answers[2])))
        try:
            return check_athlete(*answers)
        except ValidationFailed as error:
            console.print(f"[red]{error}[/] - try again", highlight=False)


def show_zones(console: Console, athlete: AthleteSettings) -> None:
    table = Table(title="Your heart-rate zones")
    for column in ("phase", "from bpm", "to bpm", "method"):
        table.add_column(column)
    for phase, zone in zones(athlete).items():
        table.add_row(phase, str(zone.low), str(zone.high), zone.method)
    console.print(table)


def pair_one(address: str) -> Device:
    return with_bluez(lambda bluez: bluez.pair(address, power_on=True))


def pair_devices(console: Console, addresses: list[str], interactive: bool,
                 skip: bool, scan_seconds: float) -> list[Device]:
    """Pair the flagged devices; interactively, offer a scan and pair what is chosen."""
    if addresses:
        return [pair_one(address) for address in addresses]
    if skip or not interactive or not typer.confirm(
            "Pair a heart-rate strap or earbuds now?", default=True):
        return []
    console.print(f"Put the strap on (or the earbuds in pairing mode); scanning "
                  f"{scan_seconds:g} s...")
    try:
        found = with_bluez(lambda bluez: bluez.scan(scan_seconds, lambda d: console.print(
            f"  found {d.address}  {d.kind:<16} {d.name}", highlight=False), power_on=True))
    except BluetoothError as error:
        console.print(f"[yellow]{error}[/]; pair later with `edgecoach devices`",
                      highlight=False)
        return []
    paired: list[Device] = []
    while found:
        address = ask(console, "Address to pair (blank when done)",
                      lambda t: check_address(t) if t.strip() else "", "")
        if not address:
            break
        try:
            paired.append(pair_one(address))
            console.print(f"paired {paired[-1].name}", highlight=False)
        except BluetoothError as error:
            console.print(f"[red]{error}[/] - try again", highlight=False)
    return paired


@app.command("setup")
def setup_command(
    coach: Annotated[str | None, typer.Option("--coach", help="alice or aiden.")] = None,
    age: Annotated[int | None, typer.Option("--age", help="Your age (10-100).")] = None,
    max_hr: Annotated[int | None, typer.Option(
        "--max-hr", help="Maximum heart rate (100-250).")] = None,
    resting_hr: Annotated[int | None, typer.Option(
        "--resting-hr", help="Resting heart rate (25-120).")] = None,
    chattiness: Annotated[str | None, typer.Option(
        "--chattiness", help="quiet, normal or chatty.")] = None,
    pair: Annotated[list[str] | None, typer.Option(
        "--pair", help="Pair this strap or earbuds address (repeatable).")] = None,
    no_pairing: Annotated[bool, typer.Option("--no-pairing", help="Skip pairing.")] = False,
    scan_seconds: Annotated[float, typer.Option(
        "--scan-seconds", help="How long to look for devices (1-120).")] = 10.0,
    no_voice: Annotated[bool, typer.Option(
        "--no-voice", help="Play no sample lines and no test line.")] = False,
    yes: Annotated[bool, typer.Option(
        "--yes", "-y", help="Ask nothing: flags, else the current settings.")] = False,
) -> None:
    """First run: choose the coach, heart rate and chattiness, pair devices; writes the
    settings file (see `config show`) and the user's subscription, then says a test line."""
    config = settings()
    addresses = [check_address(address) for address in pair or []]
    if chattiness is not None:
        chattiness = check_chattiness(chattiness)
    if not 1 <= scan_seconds <= MAX_SCAN_SECONDS:  # also refuses nan
        raise ValidationFailed("--scan-seconds", f"must be between 1 and {MAX_SCAN_SECONDS:g}")
    interactive = sys.stdin.isatty() and not yes
    console = Console()
    voices = Voices(config, enabled=not no_voice)
    base, target = settings_file(), settings_target()
    try:
        persona = choose_coach(console, config, coach, interactive, voices)
        athlete = heart_rate(console, config.athlete, age, max_hr, resting_hr, interactive)
        show_zones(console, athlete)
        if chattiness is None and interactive:
            chattiness = ask(console, "Chattiness (quiet, normal, chatty)", check_chattiness,
                             "normal")
        paired = pair_devices(console, addresses, interactive, no_pairing, scan_seconds)
    except KeyboardInterrupt:
        raise typer.Abort() from None
    strap = next((d.address for d in paired if d.kind == "heart-rate strap"), None)
    answers = SetupAnswers(persona, athlete, chattiness, strap)
    written = apply_answers(answers, config, base, target)
    name = load_catalog(config.config_dir).personas[persona].name
    voices.say(persona, TEST_LINE.format(name=name))
    print_json({"settingsFile": str(written), "userId": config.user_id, "coach": persona,
                "athlete": athlete.model_dump(), "chattiness": chattiness,
                "zones": {phase: [z.low, z.high] for phase, z in zones(athlete).items()},
                "paired": [device.to_json_dict() for device in paired]})


def _text(value: int | None) -> str:
    return "" if value is None else str(value)
