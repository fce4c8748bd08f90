"""Settings (TOML + EDGECOACH_* overrides) and the persona/trigger catalog."""

from pathlib import Path

import pytest

from edgecoach.catalog import load_catalog
from edgecoach.errors import ConfigError
from edgecoach.paths import CONFIG_DIR
from edgecoach.settings import load_settings


def test_defaults_put_data_in_the_data_dir(isolated_data_dir: Path) -> None:
    settings = load_settings()
    assert settings.database_path == isolated_data_dir / "edgecoach.db"
    assert settings.api.host == "127.0.0.1"
    assert settings.cache.budget_mb == 200


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "edgecoach.toml"
    config.write_text('persona = "aiden"\n[api]\nport = 9001\n')
    monkeypatch.setenv("EDGECOACH_CONFIG", str(config))
    monkeypatch.setenv("EDGECOACH_API__PORT", "9100")
    settings = load_settings()
    assert settings.persona == "aiden" and settings.api.port == 9100


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[api]\nport = 70000\n", "api.port"),
        ('persona = "bob"\n', "persona"),
        ("[api\nport = 1\n", "edgecoach.toml"),
        ("unknown_key = 1\n", "unknown_key"),
    ],
)
def test_a_bad_settings_file_names_file_and_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                content: str, message: str) -> None:
    config = tmp_path / "edgecoach.toml"
    config.write_text(content)
    monkeypatch.setenv("EDGECOACH_CONFIG", str(config))
    with pytest.raises(ConfigError, match=message) as caught:
        load_settings()
    assert str(config) in str(caught.value)


def test_missing_settings_file_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGECOACH_CONFIG", "/nonexistent/edgecoach.toml")
    with pytest.raises(ConfigError, match="not found"):
        load_settings()


def test_shipped_catalog_has_both_personas_and_every_trigger() -> None:
    catalog = load_catalog(CONFIG_DIR)
    assert set(catalog.personas) == {"alice", "aiden"}
    assert len(catalog.triggers) == 7
    assert catalog.trigger("workout-end").priority == 10
    alice, aiden = catalog.persona("alice"), catalog.persona("aiden")
    assert alice.personality.supportiveness > aiden.personality.supportiveness
    assert aiden.personality.directness > alice.personality.directness


def copy_config(tmp_path: Path) -> Path:
    for name in ("personas.toml", "triggers.toml"):
        (tmp_path / name).write_text((CONFIG_DIR / name).read_text())
    return tmp_path


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("triggers.toml", "priority = 10", "priority = 11", "workout-end.priority"),
        ("triggers.toml", "maxResponseLength = 120\npriority = 5",
         "maxResponseLength = 5\npriority = 5", "set-start.maxResponseLength"),
        ("personas.toml", "directness = 0.9", "directness = 1.9", "aiden.personality.directness"),
        ("triggers.toml", 'deviceRequired = "earbuds"', 'deviceRequired = "watch"',
         "conditions.deviceRequired"),
        ("personas.toml", "[aiden]", "[bob]", "bob.id"),
    ],
)
def test_a_bad_catalog_names_file_key_and_reason(tmp_path: Path, file: str, old: str, new: str,
                                                 message: str) -> None:
    directory = copy_config(tmp_path)
    path = directory / file
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))
    with pytest.raises(ConfigError, match=message) as caught:
        load_catalog(directory)
    assert str(path) in str(caught.value)


def test_a_catalog_missing_a_trigger_is_refused(tmp_path: Path) -> None:
    directory = copy_config(tmp_path)
    path = directory / "triggers.toml"
    path.write_text(path.read_text().split("[hr-zone]")[0])
    with pytest.raises(ConfigError, match="missing hr-zone"):
        load_catalog(directory)
