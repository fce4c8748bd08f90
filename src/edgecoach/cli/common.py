"""What several commands share: opening settings and the store, printing JSON."""

import contextlib
import json
import sys
from collections.abc import Iterator
from typing import Any

from edgecoach.settings import Settings, load_settings
from edgecoach.store import Store


def settings() -> Settings:
    return load_settings()


@contextlib.contextmanager
def open_store(config: Settings | None = None) -> Iterator[Store]:
    config = config or settings()
    store = Store.open(config.database_path)
    try:
        yield store
    finally:
        store.close()


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")
