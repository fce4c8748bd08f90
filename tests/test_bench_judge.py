"""The blind judging harness: a blind file without sources, a key, and rates per source."""

import json
from pathlib import Path

from edgecoach.bench import judge


def test_export_then_score_reports_each_source_and_calibration(tmp_path: Path, capsys) -> None:
    out = tmp_path / "round"
    judge.main(["export", str(out), "--lines", "14", "--controls", "4", "--seed", "3"])
    blind = [json.loads(row) for row in (out / "blind.jsonl").read_text().splitlines()]
    key = {row["id"]: row["source"] for row in map(json.loads, (
        out / "key.jsonl").read_text().splitlines())}
    assert len(blind) == 18 and set(key) == {row["id"] for row in blind}
    assert all("source" not in row and row["text"] for row in blind)  # nothing gives it away
    assert sorted(key.values()).count("control") == 4
    # A judge who calls every control fluent and every other line not fluent.
    verdicts = tmp_path / "judge.jsonl"
    verdicts.write_text("".join(json.dumps({
        "id": row["id"], "fluent": key[row["id"]] == "control", "sensible": True,
        "keep": True, "note": ""}) + "\n" for row in blind))
    capsys.readouterr()
    judge.main(["score", str(out), str(verdicts)])
    printed = capsys.readouterr().out
    assert "control                 4  100.0%" in printed
    assert "calibrated: yes" in printed
    model_row = next(line for line in printed.splitlines() if line.strip().startswith("model"))
    assert "  0.0%" in model_row
