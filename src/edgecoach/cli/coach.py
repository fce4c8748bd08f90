"""`edgecoach line`: write one coaching line for a trigger, persona and context."""

from typing import Annotated

import typer

from edgecoach.catalog import load_catalog
from edgecoach.cli import app
from edgecoach.cli.common import print_json, settings
from edgecoach.coach import LineGenerator, situation_tags
from edgecoach.contract import WorkoutContext
from edgecoach.contract.base import parse_strict
from edgecoach.contract.vocabulary import PERSONA_IDS, TRIGGER_IDS
from edgecoach.errors import ValidationFailed


@app.command()
def line(
    trigger: Annotated[str, typer.Option("--trigger", help="Trigger id, e.g. set-end.")],
    persona: Annotated[str, typer.Option("--persona", help="alice or aiden.")] = "alice",
    context: Annotated[str, typer.Option(
        "--context", help='Workout context as JSON, e.g. \'{"exercise":"squat"}\'.')] = "{}",
    seed: Annotated[int, typer.Option("--seed", help="Sampling seed (same seed, same line).")] = 0,
) -> None:
    """Generate one coaching line (and its toast) with the local model, printed as JSON."""
    if trigger not in TRIGGER_IDS:
        raise ValidationFailed("trigger", f"must be one of {', '.join(TRIGGER_IDS)}")
    if persona not in PERSONA_IDS:
        raise ValidationFailed("persona", f"must be one of {', '.join(PERSONA_IDS)}")
    config = settings()
    workout = parse_strict(WorkoutContext, context)
    catalog = load_catalog(config.config_dir)
    generator = LineGenerator.load(config.models_dir, config.coach.alternative_model,
                                   personas=catalog.personas)
    tags = situation_tags(trigger, workout, config.athlete, config.strain)
    generated = generator.generate(persona, catalog.trigger(trigger), workout, tags, seed=seed,
                                   recent=[])
    print_json({
        "text": generated.text,
        "toast": generated.toast,
        "fallback": generated.fallback,
        "tags": tags,
        "metadata": generated.metadata.to_json_dict(),
    })
