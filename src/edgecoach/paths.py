"""Where the shipped files live (config/, models/ and data/ of the checkout), and their hashes."""

import hashlib
import os
from pathlib import Path

import platformdirs

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = PROJECT_ROOT / "config"
MODELS_DIR = PROJECT_ROOT / "models"
DATA_DIR = PROJECT_ROOT / "data"


def cache_dir() -> Path:
    """Files derived from shipped ones, safe to delete (XDG cache; EDGECOACH_CACHE_DIR)."""
    return Path(os.environ.get("EDGECOACH_CACHE_DIR") or platformdirs.user_cache_dir("edgecoach"))


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in blocks (models are tens of MB)."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
