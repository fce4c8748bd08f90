"""`edgecoach report` and `edgecoach workouts`: a stored workout as an offline HTML page."""

from pathlib import Path
from typing import Annotated

import typer

from edgecoach.cli import app
from edgecoach.cli.common import print_json, settings
from edgecoach.errors import ValidationFailed
from edgecoach.report import check_out_path, write_report
from edgecoach.settings import Settings
from edgecoach.store import Store

DemoOption = Annotated[bool, typer.Option(
    "--demo", help="Read the demo's database (demo.db) and its user instead.")]


def open_workouts_store(config: Settings, demo: bool) -> tuple[Store, str]:
    """The daemon's store and user, or the demo's."""
    if demo:
        from edgecoach.demo import DEMO_USER

        return Store.open(config.data_dir / "demo.db"), DEMO_USER
    return Store.open(config.database_path), config.user_id


@app.command("report")
def report_command(
    out: Annotated[Path, typer.Option("--out", help="The HTML file to write.")],
    workout: Annotated[str | None, typer.Argument(
        help="Workout id (see `edgecoach workouts`).")] = None,
    last: Annotated[bool, typer.Option("--last", help="The last finished workout.")] = False,
    demo: DemoOption = False,
) -> None:
    """Write one workout as a self-contained HTML page (opens offline, on a phone too)."""
    if (workout is None) == (not last):
        raise ValidationFailed("WORKOUT", "give a workout id or --last (not both)")
    check_out_path(out)
    config = settings()
    store, user_id = open_workouts_store(config, demo)
    try:
        workout_id = workout or store.workouts.last(user_id).id
        write_report(store, workout_id, out)
    finally:
        store.close()
    print_json({"workoutId": workout_id, "report": str(out)})


@app.command("workouts")
def workouts_command(demo: DemoOption = False) -> None:
    """List the user's workouts, newest first: id, start, end, source and summary."""
    config = settings()
    store, user_id = open_workouts_store(config, demo)
    try:
        print_json([workout.to_json_dict() for workout in store.workouts.of_user(user_id)])
    finally:
        store.close()
