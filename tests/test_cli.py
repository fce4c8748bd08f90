"""The CLI as a user runs it: help everywhere, README coverage, exit codes, real store."""

import json
import subprocess
import sys
from typing import Any

import pytest
import typer.main

from edgecoach.cli import app, main
from edgecoach.contract import VoiceResponse
from edgecoach.settings import load_settings
from edgecoach.store import Store
from tests.conftest import REPO_ROOT


def all_commands() -> list[tuple[str, Any]]:
    root = typer.main.get_command(app)
    found = []

    def walk(group: Any, prefix: str) -> None:
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                walk(command, f"{prefix}{name} ")
            else:
                found.append((f"{prefix}{name}", command))

    walk(root, "")
    return found


def test_every_command_has_help_text_and_is_in_the_readme() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    commands = all_commands()
    assert len(commands) >= 6
    for name, command in commands:
        assert command.help, f"`edgecoach {name}` has no help text"
        assert f"edgecoach {name}" in readme, f"`edgecoach {name}` is not in the README"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def seeded_response() -> str:
    store = Store.open(load_settings().database_path)
    line = VoiceResponse(user_id="athlete", trigger_id="set-end", persona_id="alice",
                         text_content="Lovely set.")
    store.responses.add(line)
    store.close()
    return line.id


def test_feedback_then_status(capsys: pytest.CaptureFixture[str]) -> None:
    response_id = seeded_response()
    code, out, _ = run(capsys, "feedback", response_id, "--rating", "4", "--helpful")
    assert code == 0 and json.loads(out)["feedback"]["rating"] == 4
    code, out, _ = run(capsys, "status")
    status = json.loads(out)
    # the line, its rating, the training record, and the talk budget it taught
    assert code == 0 and status["outboxPending"] == 4
    assert status["usageStats"]["averageRating"] == 4


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["feedback", "x", "--rating", "0"], "rating"),
        (["feedback", "missing-id", "--rating", "3"], "not found"),
        (["line", "--trigger", "set-end", "--context", '{"weight": true, "reps": 8}'],
         "weight"),
        (["line", "--trigger", "set-end", "--context", '{"reps": "8"}'], "reps"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys: pytest.CaptureFixture[str], argv: list[str],
                                         message: str) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_user_export_and_delete(capsys: pytest.CaptureFixture[str]) -> None:
    seeded_response()
    code, out, _ = run(capsys, "user", "export", "athlete")
    assert code == 0 and json.loads(out)["voice_responses"][0]["textContent"] == "Lovely set."
    code, out, _ = run(capsys, "user", "delete", "athlete")
    assert code == 0 and json.loads(out)["deleted"]["voice_responses"] == 1
    code, out, _ = run(capsys, "purge")
    assert code == 0 and "purged" in json.loads(out)


def test_config_show_hides_secrets(capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGECOACH_UPSTREAM__TOKEN", "s3cret-token-value")
    code, out, _ = run(capsys, "config", "show")
    assert code == 0 and "s3cret-token-value" not in out
    assert set(json.loads(out)["personas"]) == {"alice", "aiden"}


def test_the_console_script_runs_as_a_process() -> None:
    done = subprocess.run([sys.executable, "-m", "edgecoach", "feedback", "x", "--rating", "9"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "rating" in done.stderr and "Traceback" not in done.stderr
