"""The `edgecoach` command. Each module adds its commands; each command is a thin edge:
parse input, call the library, print the result. Errors become one line and exit 2."""

import sys

import typer

from edgecoach.errors import EdgeCoachError
from edgecoach.safe_text import safe_text

app = typer.Typer(
    help="EdgeCoach: an offline workout-coaching daemon.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Command modules register themselves on `app` when imported.
from edgecoach.cli import coach, core, daemon, devices, report, setup, sources, voice  # noqa: E402,F401

USER_ERROR = 2


def main(argv: list[str] | None = None) -> int:
    """Console entry point: a user error prints one line naming the problem and exits 2."""
    try:
        app(args=argv, prog_name="edgecoach", standalone_mode=False)
    except EdgeCoachError as error:
        print(f"edgecoach: error: {safe_text(str(error))}", file=sys.stderr)
        return USER_ERROR
    except OSError as error:  # a path the command was given that the system refused
        where = f"{error.filename}: " if error.filename else ""
        print(f"edgecoach: error: {safe_text(where + (error.strerror or str(error)))}",
              file=sys.stderr)
        return USER_ERROR
    except typer.Exit as done:
        return done.exit_code
    except typer.Abort:
        print("edgecoach: aborted", file=sys.stderr)
        return 1
    except typer.TyperException as error:  # usage errors carry their own message and code
        error.show()  # type: ignore[attr-defined]
        return USER_ERROR
    return 0


def run() -> None:
    sys.exit(main())
