"""Fixtures shared by the whole suite."""

from pathlib import Path

import pytest

from edgecoach.store import Store

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_FIT_DIR = REPO_ROOT.parent / "shared" / "data" / "fit"


class FakeClock:
    """Time that moves only when the test says so."""

    def __init__(self, start: float = 1_750_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock):
    opened = Store.open(tmp_path / "edgecoach.db", clock=clock)
    yield opened
    opened.close()


@pytest.fixture(autouse=True)
def isolated_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test touches the real XDG data dir or a user's settings file."""
    data_dir = tmp_path / "data"
    monkeypatch.setenv("EDGECOACH_DATA_DIR", str(data_dir))
    monkeypatch.delenv("EDGECOACH_CONFIG", raising=False)
    # `edgecoach setup` writes its settings file in the XDG config dir.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    return data_dir


# The fake Convex deployment (tests/convex_server.py), for every test that syncs upstream.
from tests.convex_server import convex_server  # noqa: E402, F401
