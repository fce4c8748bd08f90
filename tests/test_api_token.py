"""The API token file: created once with mode 0600, tightened or refused afterwards."""

import logging
import os
import stat
from pathlib import Path

import pytest

from edgecoach.api import ensure_token
from edgecoach.errors import ConfigError


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_first_start_creates_a_0600_file_with_a_random_url_safe_token(tmp_path: Path) -> None:
    path = tmp_path / "state" / "api-token"
    token = ensure_token(path)
    assert mode_of(path) == 0o600
    assert mode_of(path.parent) == 0o700
    assert len(token) >= 43
    assert token.replace("-", "").replace("_", "").isalnum()
    assert path.read_text().strip() == token
    assert ensure_token(tmp_path / "another") != token


def test_a_loose_umask_still_gives_0600(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        path = tmp_path / "api-token"
        ensure_token(path)
    finally:
        os.umask(previous)
    assert mode_of(path) == 0o600


def test_the_next_start_reads_the_same_token(tmp_path: Path) -> None:
    path = tmp_path / "api-token"
    assert ensure_token(path) == ensure_token(path)


def test_a_wider_mode_is_tightened_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "api-token"
    token = ensure_token(path)
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="edgecoach.api.token"):
        assert ensure_token(path) == token
    assert mode_of(path) == 0o600
    assert "tightened" in caplog.text


@pytest.mark.parametrize("content", ["", "short", "x" * 42, "has spaces " * 5])
def test_a_file_without_a_usable_token_is_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "api-token"
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(ConfigError, match="no usable token"):
        ensure_token(path)


def test_a_symlink_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("y" * 43)
    link = tmp_path / "api-token"
    link.symlink_to(target)
    with pytest.raises(ConfigError, match="not a regular file"):
        ensure_token(link)


def test_a_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "api-token").mkdir()
    with pytest.raises(ConfigError, match="not a regular file"):
        ensure_token(tmp_path / "api-token")
