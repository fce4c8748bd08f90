"""Settings: read once at start from a TOML file and EDGECOACH_* variables, then passed down.

Precedence: keyword arguments > environment (EDGECOACH_*, nested with "__") > TOML file
(EDGECOACH_CONFIG, else the one `edgecoach setup` wrote in the XDG config dir, else
config/edgecoach.toml of the checkout) > defaults below.
"""

import hashlib
import os
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from edgecoach.contract.vocabulary import PersonaId
from edgecoach.errors import ConfigError
from edgecoach.paths import CONFIG_DIR, MODELS_DIR

DEFAULT_SETTINGS_FILE = CONFIG_DIR / "edgecoach.toml"
ENV_PREFIX = "EDGECOACH_"
ENV_NESTING = "__"
# inf or nan for a size, a time or a scale is refused ("Input should be a finite number").
FINITE = ConfigDict(allow_inf_nan=False)
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


def user_settings_file() -> Path:
    """Where `edgecoach setup` writes: ~/.config/edgecoach/edgecoach.toml (XDG)."""
    return Path(platformdirs.user_config_dir("edgecoach")) / "edgecoach.toml"


def settings_file() -> Path:
    """The settings file in force: EDGECOACH_CONFIG, else the user's, else the checkout's."""
    if "EDGECOACH_CONFIG" in os.environ:
        return Path(os.environ["EDGECOACH_CONFIG"])
    user_file = user_settings_file()
    return user_file if user_file.is_file() else DEFAULT_SETTINGS_FILE


class ApiSettings(BaseModel):
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=0, le=65535)
    unix_socket: Path | None = None
    # The CLI's private socket beside TCP (unset: made from the runtime and data dirs).
    cli_socket: Path | None = None


class UpstreamSettings(BaseModel):
    model_config = FINITE

    url: str | None = None
    token: SecretStr | None = None
    sync_interval_seconds: float = Field(default=300, gt=0)
    batch_size: int = Field(default=200, ge=1, le=5000)
    timeout_seconds: float = Field(default=10, gt=0)


class AudioSettings(BaseModel):
    output: Literal["auto", "sounddevice", "wav", "none"] = "auto"
    wav_dir: Path | None = None


class CacheSettings(BaseModel):
    model_config = FINITE

    budget_mb: float = Field(default=200, gt=0)
    ttl_days: float = Field(default=30, gt=0)


class SourceSettings(BaseModel):
    ble_enabled: bool = True
    ble_address: str | None = None
    bluez_enabled: bool = True
    buttons_enabled: bool = True


class AthleteSettings(BaseModel):
    age: int | None = Field(default=None, ge=10, le=100)
    max_heart_rate: int | None = Field(default=None, ge=100, le=250)
    resting_heart_rate: int | None = Field(default=None, ge=25, le=120)


class StrainSettings(BaseModel):
    """Strain score bands (0-100) at which `strainsync` fires, and the score's TRIMP scale."""

    model_config = FINITE

    bands: dict[str, float] = Field(
        default_factory=lambda: {"low": 25.0, "mid": 50.0, "high": 75.0, "peak": 90.0})
    scale: float = Field(default=75.0, gt=0, description="TRIMP that gives a strain of 63")

    @field_validator("bands")
    @classmethod
    def _bands_in_range(cls, bands: dict[str, float]) -> dict[str, float]:
        if any(not 0 < threshold <= 100 for threshold in bands.values()):
            raise ValueError("band thresholds must be in (0, 100]")
        return bands


class CoachSettings(BaseModel):
    """The line generator: the built-in model of models/coach/ unless an alternative is set."""

    alternative_model: Path | None = Field(
        default=None, description="directory with model.onnx and tokenizer.json of a causal LM")


def default_runtime_dir() -> Path:
    """$XDG_RUNTIME_DIR/edgecoach (systemd makes it: RuntimeDirectory=edgecoach), else
    /run/user/<uid>/edgecoach, else /tmp/edgecoach-<uid> (its owner and mode are checked
    before a socket is made in it)."""
    uid = os.getuid()
    if base := os.environ.get("XDG_RUNTIME_DIR"):
        return Path(base) / "edgecoach"
    if Path(f"/run/user/{uid}").is_dir():
        return Path(f"/run/user/{uid}/edgecoach")
    return Path(f"/tmp/edgecoach-{uid}")


class Settings(BaseSettings):
    """Everything the daemon needs to start; validated once."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter=ENV_NESTING, extra="forbid",
        allow_inf_nan=False,
    )

    data_dir: Path = Field(default_factory=lambda: Path(platformdirs.user_data_dir("edgecoach")))
    config_dir: Path = CONFIG_DIR
    models_dir: Path = MODELS_DIR
    user_id: str = Field(default="athlete", min_length=1, max_length=128)
    persona: PersonaId = "alice"
    log_level: LogLevel = "INFO"
    runtime_dir: Path = Field(default_factory=lambda: default_runtime_dir())
    voice_threads: int | None = Field(
        default=None, ge=1, le=64,
        description="ONNX Runtime threads of each voice session, none spinning (1 under "
                    "qemu and on a one-core budget); unset: one per core")
    api: ApiSettings = Field(default_factory=ApiSettings)
    upstream: UpstreamSettings = Field(default_factory=UpstreamSettings)
    audio: AudioSettings = Field(default_factory=AudioSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    sources: SourceSettings = Field(default_factory=SourceSettings)
    athlete: AthleteSettings = Field(default_factory=AthleteSettings)
    strain: StrainSettings = Field(default_factory=StrainSettings)
    coach: CoachSettings = Field(default_factory=CoachSettings)

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_in_capitals(cls, level: object) -> object:
        return level.upper() if isinstance(level, str) else level

    @model_validator(mode="after")
    def _cli_socket_per_data_dir(self) -> "Settings":
        # One daemon per data dir, so one socket per data dir: test and demo daemons
        # beside the real one never take each other's socket.
        if self.api.cli_socket is None:
            digest = hashlib.sha256(str(self.data_dir.absolute()).encode()).hexdigest()
            self.api.cli_socket = self.runtime_dir / f"api-{digest[:12]}.sock"
        return self

    @property
    def database_path(self) -> Path:
        return self.data_dir / "edgecoach.db"

    @property
    def token_path(self) -> Path:
        return self.data_dir / "api-token"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings,
                TomlConfigSettingsSource(settings_cls, settings_file()))


def setting_origin(loc: tuple[int | str, ...], toml_file: Path) -> str:
    """Where a refused value came from: its EDGECOACH_* variable when one is set (it wins
    over the file), else the settings file."""
    variable = ENV_PREFIX + ENV_NESTING.join(str(part) for part in loc).upper()
    if any(name.upper() == variable for name in os.environ):
        return variable
    return str(toml_file)


def load_settings(**overrides: object) -> Settings:
    """Settings from file and environment, or a ConfigError naming the file, key and reason."""
    toml_file = settings_file()
    if "EDGECOACH_CONFIG" in os.environ and not toml_file.is_file():
        raise ConfigError(f"{toml_file}: settings file not found (from EDGECOACH_CONFIG)")
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        key = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"{setting_origin(first['loc'], toml_file)}: {key}: "
                          f"{first['msg']}") from None
    except ValueError as error:  # TOML syntax errors
        raise ConfigError(f"{toml_file}: {error}") from None
