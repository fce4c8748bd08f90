"""Status, configuration, feedback, user data and purge commands."""

import typer

from edgecoach.api.local_client import DaemonNotRunning, daemon_status
from edgecoach.catalog import load_catalog
from edgecoach.cli import app
from edgecoach.cli.common import known_user, open_store, print_json, settings
from edgecoach.contract import Feedback, parse
from edgecoach.errors import ValidationFailed
from edgecoach.feedback import give_feedback
from edgecoach.session.talk_budget import TalkBudget
from edgecoach.settings import Settings
from edgecoach.store.sync_state import SyncState

config_app = typer.Typer(help="Show the configuration in force.", no_args_is_help=True)
user_app = typer.Typer(help="Export or delete everything stored about a user.",
                       no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(user_app, name="user")


@app.command()
def status() -> None:
    """Print the state: limits left, outbox, talk budget, and the running daemon's devices."""
    config = settings()
    with open_store(config) as store:
        subscription = store.subscriptions.get(config.user_id)
        prefs = subscription.device_preferences
        print_json({
            "userId": config.user_id,
            "database": str(config.database_path),
            "subscriptionType": subscription.subscription_type,
            "preferredPersona": subscription.preferred_persona,
            "limitsLeft": store.limits.remaining(
                config.user_id, subscription.subscription_type, prefs.max_daily_coaching),
            "outboxPending": store.outbox.pending_count(),
            "lastSync": {"up": store.outbox.last_sent_at(),
                         "down": SyncState(store.database).last_down()},
            "events": store.responses.event_counts(config.user_id),
            "usageStats": subscription.usage_stats.to_json_dict(),
            "talkBudget": TalkBudget(store.database).state(config.user_id),
            "daemon": running_daemon_status(config),
        })


def running_daemon_status(config: Settings) -> dict | str:
    """The running daemon's own status (earbuds, strap, heart rate) from its local API,
    asked over its private Unix socket only: the token never goes to a TCP port that
    another local user may have bound (see api/local_client.py)."""
    path = config.api.unix_socket or config.api.cli_socket
    if not config.api.enabled or path is None or not config.token_path.exists():
        return "not running"
    try:
        return daemon_status(path, config.token_path.read_text().strip())
    except DaemonNotRunning:
        return "not running"


@config_app.command("show")
def config_show() -> None:
    """Print the settings, personas and triggers in force (secrets hidden)."""
    config = settings()
    catalog = load_catalog(config.config_dir)
    print_json({
        "settings": config.model_dump(mode="json"),
        "personas": {key: p.to_json_dict() for key, p in catalog.personas.items()},
        "triggers": {key: t.to_json_dict() for key, t in catalog.triggers.items()},
    })


@app.command()
def feedback(
    response_id: str = typer.Argument(help="Id of the spoken line (see `status` or the API)."),
    rating: int = typer.Option(..., "--rating", help="1 (poor) to 5 (great)."),
    helpful: bool | None = typer.Option(None, "--helpful/--not-helpful", help="Was it useful?"),
    comment: str | None = typer.Option(None, "--comment", help="Free text (sanitized)."),
) -> None:
    """Rate a spoken line; the rating is stored and queued for upstream."""
    rated = parse(Feedback, {"rating": rating, "helpful": helpful, "comments": comment})
    with open_store() as store:
        response = give_feedback(store, response_id, rated)
    print_json({"id": response.id, "feedback": rated.to_json_dict()})


@user_app.command("export")
def user_export(user_id: str = typer.Argument(help="The user whose data to export.")) -> None:
    """Print one JSON document of everything stored about the user."""
    with open_store() as store:
        known_user(store, user_id)
        print_json(store.retention.export_user(user_id))


@user_app.command("delete")
def user_delete(user_id: str = typer.Argument(help="The user whose data to delete.")) -> None:
    """Delete every row and cached clip of the user, for good."""
    with open_store() as store:
        known_user(store, user_id)
        print_json({"userId": user_id, "deleted": store.retention.delete_user(user_id)})


@app.command()
def purge() -> None:
    """Remove rows older than each user's dataRetentionDays, and soft-deleted rows."""
    with open_store() as store:
        print_json({"purged": store.retention.purge()})


@app.command()
def talk(direction: str = typer.Argument(help="less or more")) -> None:
    """Make the coach talk less or more (moves chattiness quiet / normal / chatty)."""
    if direction not in ("less", "more"):
        raise ValidationFailed("direction", "must be less or more")
    config = settings()
    with open_store(config) as store:
        level = TalkBudget(store.database).nudge(config.user_id, direction)
    print_json({"userId": config.user_id, "chattiness": level})
