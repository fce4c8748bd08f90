"""The built-in coach model on disk: manifest, hash checks, and one ONNX decoding step.

models/coach/ holds the int8 ONNX model, its vocabulary, the corpus lines (the
fallback at run time) and manifest.json with the sha256 of each file. Loading checks
every hash, so a corrupt or swapped file fails at start with the file's name.
"""

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from edgecoach.coach.vocabulary import Vocabulary
from edgecoach.errors import ModelError
from edgecoach.paths import file_sha256

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
MODEL_FILE = "coach-int8.onnx"
VOCAB_FILE = "vocab.json"
LINES_FILE = "lines.jsonl"


def read_manifest(model_dir: Path) -> dict[str, Any]:
    """The manifest, after checking that every file it lists exists and matches its hash."""
    path = model_dir / MANIFEST
    try:
        manifest = json.loads(path.read_text())
        files = manifest["files"]
        manifest["modelVersion"]
    except FileNotFoundError:
        raise ModelError(f"{path}: model manifest not found (run `make model`)") from None
    except (ValueError, KeyError, TypeError) as error:
        raise ModelError(f"{path}: not a model manifest: {error}") from None
    for name in (MODEL_FILE, VOCAB_FILE, LINES_FILE):
        if name not in files:
            raise ModelError(f"{path}: lists no {name}")
    for name, entry in files.items():
        file = model_dir / name
        if not file.is_file():
            raise ModelError(f"{file}: model file missing")
        if file_sha256(file) != entry["sha256"]:
            raise ModelError(f"{file}: sha256 does not match {MANIFEST} (corrupt or replaced)")
    return manifest


def open_session(path: Path) -> ort.InferenceSession:
    """One small session: a single intra-op thread, as the daemon runs one line at a time."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own untyped errors for bad files
        raise ModelError(f"{path}: cannot load ONNX model: {error}") from None


@dataclass
class StepModel:
    """A recurrent decoder exported one step at a time: (token, hidden) -> (logits, hidden)."""

    session: ort.InferenceSession
    layers: int
    hidden_size: int

    @classmethod
    def open(cls, path: Path) -> "StepModel":
        session = open_session(path)
        names = [i.name for i in session.get_inputs()]
        if names != ["token", "hidden"]:
            raise ModelError(f"{path}: expected inputs token, hidden; found {names}")
        layers, _, hidden_size = session.get_inputs()[1].shape
        if not isinstance(layers, int) or not isinstance(hidden_size, int):
            raise ModelError(f"{path}: hidden state shape is not fixed")
        return cls(session, layers, hidden_size)

    def initial_state(self, batch: int) -> np.ndarray:
        return np.zeros((self.layers, batch, self.hidden_size), dtype=np.float32)

    def step(self, tokens: np.ndarray, hidden: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        logits, hidden = self.session.run(
            None, {"token": tokens.astype(np.int64), "hidden": hidden})
        return logits, hidden


@dataclass
class CoachModel:
    """Everything of models/coach/ that generation needs, loaded and checked once."""

    directory: Path
    manifest: dict[str, Any]
    vocabulary: Vocabulary
    decoder: StepModel

    @property
    def version(self) -> str:
        return str(self.manifest["modelVersion"])

    @classmethod
    def load(cls, model_dir: Path, model_file: str = MODEL_FILE) -> "CoachModel":
        manifest = read_manifest(model_dir)
        vocabulary = Vocabulary.load(model_dir / VOCAB_FILE)
        decoder = StepModel.open(model_dir / model_file)
        out_size = decoder.session.get_outputs()[0].shape[-1]
        if out_size != len(vocabulary):
            raise ModelError(f"{model_dir / model_file}: {out_size} outputs for a vocabulary "
                             f"of {len(vocabulary)} tokens")
        log.info("coach model %s loaded from %s", manifest["modelVersion"], model_dir)
        return cls(model_dir, manifest, vocabulary, decoder)
