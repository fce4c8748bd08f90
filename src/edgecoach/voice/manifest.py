"""Which files a voice id stands for, checked at start."""

import hashlib
import importlib
from dataclasses import dataclass
from pathlib import Path

from edgecoach.catalog import read_toml
from edgecoach.errors import VoiceError

MANIFEST_NAME = "voices.toml"


@dataclass(frozen=True)
class VoiceFiles:
    voice_id: str
    model: Path
    config: Path
    sha256: str


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _package_files(voice_id: str, entry: dict) -> tuple[Path, Path]:
    try:
        package = importlib.import_module(entry["package"])
    except ImportError:
        raise VoiceError(f"voice {voice_id}: package {entry['package']} is not installed "
                         f"(pip install {entry['package'].replace('_', '-')})") from None
    return Path(package.model_path()), Path(package.config_path())


def resolve_voice(model: str, models_dir: Path) -> VoiceFiles:
    """A voice id of the manifest, or a path to a Piper .onnx file; errors name the file."""
    manifest = read_toml(models_dir / MANIFEST_NAME)
    if model in manifest:
        entry = manifest[model]
        onnx, config = _package_files(model, entry)
        expected = entry.get("sha256")
    else:
        onnx = Path(model).expanduser()
        if not onnx.is_absolute():
            onnx = models_dir / onnx
        config, expected = onnx.with_name(onnx.name + ".json"), None
    for path in (onnx, config):
        if not path.is_file():
            raise VoiceError(f"{path}: voice file not found (voice {model})")
    actual = file_sha256(onnx)
    if expected and actual != expected:
        raise VoiceError(f"{onnx}: sha256 {actual[:12]}... does not match the manifest "
                         f"({expected[:12]}...): corrupt or replaced voice file")
    return VoiceFiles(model, onnx, config, actual)
