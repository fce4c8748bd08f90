"""`edgecoach line` as a user runs it."""

import json

from edgecoach.cli import main

CONTEXT = '{"exercise":"squat","reps":5,"weight":100,"heartRate":150}'


def test_line_prints_text_and_toast(capsys) -> None:
    args = ["line", "--trigger", "set-end", "--persona", "aiden", "--context", CONTEXT,
            "--seed", "4"]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["text"] and len(first["toast"]) <= 60
    assert "strength" in first["tags"] and first["metadata"]["modelVersion"]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["text"] == first["text"]


def test_invalid_context_names_the_field(capsys) -> None:
    code = main(["line", "--trigger", "set-end", "--context", '{"exercise":"squat","reps":0}'])
    assert code == 2
    assert "reps" in capsys.readouterr().err


def test_unknown_trigger(capsys) -> None:
    assert main(["line", "--trigger", "warmup"]) == 2
    assert "trigger" in capsys.readouterr().err
