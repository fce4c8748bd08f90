"""What several commands share: opening settings and the store, checking the paths a
command will write to before any work, printing JSON and text safely."""

import contextlib
import json
import math
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from edgecoach.errors import ConfigError, NotFound, ValidationFailed
from edgecoach.safe_text import safe_text
from edgecoach.settings import Settings, load_settings
from edgecoach.store import Store


def settings() -> Settings:
    config = load_settings()
    ensure_data_dir(config)
    return config


def ensure_data_dir(config: Settings) -> None:
    """The data dir exists as a folder (made 0700 if missing), or one ConfigError saying why."""
    data_dir = config.data_dir
    where = "EDGECOACH_DATA_DIR" if "EDGECOACH_DATA_DIR" in os.environ else "data_dir"
    if data_dir.exists() and not data_dir.is_dir():
        raise ConfigError(f"{where}: {data_dir} is a file, not a folder")
    try:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as error:
        raise ConfigError(f"{where}: cannot create {data_dir}: {error.strerror}") from None


@contextlib.contextmanager
def open_store(config: Settings | None = None) -> Iterator[Store]:
    config = config or settings()
    store = Store.open(config.database_path)
    try:
        yield store
    finally:
        store.close()


def known_user(store: Store, user_id: str) -> None:
    """NotFound unless something is stored about `user_id` (a subscription or any row):
    an export or a deletion of a user never seen must not answer with made-up defaults."""
    if store.subscriptions.exists(user_id):
        return
    document = store.retention.export_user(user_id)
    if not any(isinstance(rows, list) and rows for rows in document.values()):
        raise NotFound(f"no user {safe_text(user_id)!r} is stored")


def output_file(path: Path, option: str) -> Path:
    """`path` if a file can be written there: not a folder or a device, in a folder that
    exists or can be made and is writable. Checked before any work, so a bad path costs
    nothing and leaves nothing behind."""
    if path.is_dir():
        raise ValidationFailed(option, f"{path} is a folder; give a file name")
    if path.exists() and not path.is_file():
        raise ValidationFailed(option, f"{path} is not a regular file")
    _writable_folder(path.parent, option)
    if path.exists() and not os.access(path, os.W_OK):
        raise ValidationFailed(option, f"{path} is not writable")
    return path


def output_dir(path: Path, option: str) -> Path:
    """`path` if files can be written in it (made if missing), or ValidationFailed."""
    if path.exists() and not path.is_dir():
        raise ValidationFailed(option, f"{path} is not a folder")
    _writable_folder(path, option)
    return path


def _writable_folder(folder: Path, option: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValidationFailed(option, f"cannot create {folder}: {error.strerror}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValidationFailed(option, f"cannot write in {folder}")


def _finite(value: Any) -> Any:
    """JSON has no NaN or Infinity: such a value prints as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def print_json(value: Any) -> None:
    """Valid JSON (no NaN, no Infinity); control characters are escaped by JSON itself."""
    json.dump(_finite(value), sys.stdout, indent=2, default=str, allow_nan=False)
    sys.stdout.write("\n")
