"""Model files: manifest hashes, size, clear errors for corrupt or missing files,
and the alternative causal LM (a tiny ONNX model and tokenizer built here)."""

import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from tokenizers import Tokenizer
from tokenizers.models import WordLevel
from tokenizers.pre_tokenizers import Whitespace

from edgecoach.catalog import load_catalog
from edgecoach.coach import LineGenerator
from edgecoach.coach.alternative import prompt_for
from edgecoach.contract import WorkoutContext
from edgecoach.errors import ModelError
from edgecoach.paths import CONFIG_DIR, MODELS_DIR, file_sha256

COACH = MODELS_DIR / "coach"
CATALOG = load_catalog(CONFIG_DIR)


def test_manifest_hashes_match_the_files_and_size_is_small() -> None:
    manifest = json.loads((COACH / "manifest.json").read_text())
    for name, entry in manifest["files"].items():
        assert file_sha256(COACH / name) == entry["sha256"], name
        assert (COACH / name).stat().st_size == entry["bytes"]
    assert sum(f.stat().st_size for f in COACH.iterdir()) <= 10_000_000
    evaluation = manifest["evaluation"]
    assert abs(evaluation["floatValidityPercent"] - evaluation["int8ValidityPercent"]) <= 1
    assert manifest["corpusSha256"] and manifest["modelVersion"]


@pytest.fixture
def models_copy(tmp_path: Path) -> Path:
    shutil.copytree(COACH, tmp_path / "coach")
    return tmp_path


def test_corrupt_model_names_the_file(models_copy: Path) -> None:
    model = models_copy / "coach" / "coach-int8.onnx"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))
    with pytest.raises(ModelError, match=r"coach-int8\.onnx: sha256 does not match"):
        LineGenerator.load(models_copy)


def test_unloadable_model_with_a_matching_hash_names_the_file(models_copy: Path) -> None:
    model = models_copy / "coach" / "coach-int8.onnx"
    model.write_bytes(b"not an onnx model")
    manifest_path = models_copy / "coach" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["files"]["coach-int8.onnx"]["sha256"] = file_sha256(model)
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match=r"coach-int8\.onnx: cannot load ONNX model"):
        LineGenerator.load(models_copy)


@pytest.mark.parametrize("name", ["vocab.json", "lines.jsonl", "manifest.json"])
def test_missing_file_names_it(models_copy: Path, name: str) -> None:
    (models_copy / "coach" / name).unlink()
    with pytest.raises(ModelError, match=name.replace(".", r"\.")):
        LineGenerator.load(models_copy)


# A word-level "causal LM": logits at each position are a fixed next-word table.
WORDS = ["[UNK]", "</s>", "Push", "hard", "now", ".", ":", "Coach", "7"]


def tiny_causal_lm(directory: Path, after_now: str) -> Path:
    directory.mkdir()
    index = {word: i for i, word in enumerate(WORDS)}
    following = {":": "Push", "Push": "hard", "hard": "now", "now": after_now, "7": ".",
                 ".": "</s>"}
    table = np.full((len(WORDS), len(WORDS)), -50.0, dtype=np.float32)
    for word, i in index.items():
        table[i, index[following.get(word, "Push")]] = 50.0
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "input_ids"], ["logits"], axis=0)], "tiny",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, [1, "seq"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, "seq", len(WORDS)])],
        [helper.make_tensor("table", TensorProto.FLOAT, table.shape, table.flatten())])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, directory / "model.onnx")
    tokenizer = Tokenizer(WordLevel(index, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = Whitespace()
    tokenizer.save(str(directory / "tokenizer.json"))
    return directory


def test_alternative_causal_lm_is_used_and_checked(tmp_path: Path) -> None:
    alternative = tiny_causal_lm(tmp_path / "tiny", after_now=".")
    generator = LineGenerator.load(MODELS_DIR, alternative=alternative)
    context = WorkoutContext(strain=80, heart_rate=150)
    line = generator.generate("aiden", CATALOG.trigger("strainsync"), context,
                              ["strain-high", "hr-steady"], seed=1, recent=[])
    assert line.text == "Push hard now ." and not line.fallback
    assert line.metadata.model_version.startswith("tiny-")
    assert line.metadata.input_tokens > 5 and line.metadata.output_tokens == 4


def test_alternative_with_an_invented_number_falls_back(tmp_path: Path) -> None:
    alternative = tiny_causal_lm(tmp_path / "tiny", after_now="7")
    generator = LineGenerator.load(MODELS_DIR, alternative=alternative)
    context = WorkoutContext(strain=80, heart_rate=150)
    line = generator.generate("aiden", CATALOG.trigger("strainsync"), context,
                              ["strain-high"], seed=1, recent=[])
    assert line.fallback and "7" not in line.text
    assert any("numbers not in the context" in reason for reason in line.rejected)


def test_alternative_missing_tokenizer(tmp_path: Path) -> None:
    alternative = tiny_causal_lm(tmp_path / "tiny", after_now=".")
    (alternative / "tokenizer.json").unlink()
    with pytest.raises(ModelError, match=r"tokenizer\.json: alternative model file missing"):
        LineGenerator.load(MODELS_DIR, alternative=alternative)


def test_alternative_prompt_carries_the_persona_style_and_the_trigger_template() -> None:
    trigger = CATALOG.trigger("set-end")
    aiden = CATALOG.persona("aiden")
    values = {"exercise": "squat", "reps": "8", "weight": "100", "set": "2"}
    prompt = prompt_for("aiden", trigger, values, aiden)
    assert aiden.communication_style in prompt and aiden.training_prompts[0] in prompt
    assert "squat" in prompt and prompt.endswith("\nCoach:")
    other = trigger.model_copy(update={"prompt_template": "Say something about {exercise}."})
    assert prompt_for("aiden", other, values, aiden) != prompt
