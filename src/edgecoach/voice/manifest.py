"""Which files a voice id stands for, checked at start (models/voices.toml)."""

import importlib
import json
from dataclasses import dataclass
from pathlib import Path

from edgecoach.catalog import read_toml
from edgecoach.errors import VoiceError
from edgecoach.paths import file_sha256

MANIFEST_NAME = "voices.toml"


@dataclass(frozen=True)
class VoiceFiles:
    """A Piper voice on disk: the ONNX model, its JSON config, and what identifies them."""

    voice_id: str
    model: Path
    config: Path
    sha256: str  # of the model file: part of every audio cache key
    version: str
    quality: str  # Piper's tier (x_low, low, medium, high), stored with cached clips


def _package_files(voice_id: str, entry: dict) -> tuple[Path, Path]:
    try:
        package = importlib.import_module(entry["package"])
    except ImportError:
        raise VoiceError(f"voice {voice_id}: package {entry['package']} is not installed "
                         f"(pip install {entry['package'].replace('_', '-')})") from None
    return Path(package.model_path()), Path(package.config_path())


def _config_quality(config: Path) -> str:
    try:
        parsed = json.loads(config.read_text(encoding="utf-8"))
        return str(parsed.get("audio", {}).get("quality") or "unknown")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError) as error:
        raise VoiceError(f"{config}: unreadable Piper voice config: {error}") from None


def resolve_voice(model: str, models_dir: Path) -> VoiceFiles:
    """A voice id of the manifest, or a path to a Piper .onnx file (its .onnx.json beside
    it, a relative path is under `models_dir`); every error names the file."""
    manifest = read_toml(models_dir / MANIFEST_NAME)
    if model in manifest:
        entry = manifest[model]
        if "package" in entry:
            onnx, config = _package_files(model, entry)
        else:
            onnx = _under(models_dir, entry["path"])
            config = onnx.with_name(onnx.name + ".json")
        expected, version = entry.get("sha256"), str(entry.get("version", ""))
    else:
        onnx = _under(models_dir, model)
        config, expected, version = onnx.with_name(onnx.name + ".json"), None, ""
    for path in (onnx, config):
        if not path.is_file():
            raise VoiceError(f"{path}: voice file not found (voice {model})")
    actual = file_sha256(onnx)
    if expected and actual != expected:
        raise VoiceError(f"{onnx}: sha256 {actual[:12]}... does not match the manifest "
                         f"({expected[:12]}...): corrupt or replaced voice file")
    return VoiceFiles(model, onnx, config, actual, version, _config_quality(config))


def _under(models_dir: Path, path: str) -> Path:
    resolved = Path(path).expanduser()
    return resolved if resolved.is_absolute() else models_dir / resolved
