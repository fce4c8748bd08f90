"""Train, export, quantize and evaluate the coach model: `python -m training.train`.

One reproducible command (fixed seeds, two threads): reads training/corpus/*.jsonl,
trains a word-level GRU decoder conditioned on persona, trigger and tags (control
tokens before the line), exports one decoding step to ONNX, quantizes it to int8 with
onnxruntime's dynamic quantization, measures float and int8 validity with the run-time
generator, and writes models/coach/ (model, vocabulary, fallback lines, manifest).
"""

import argparse
import dataclasses
import json
import logging
import math
import random
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from onnxruntime.quantization import QuantType, quantize_dynamic

from edgecoach.bench.model import figures, generate_samples
from edgecoach.catalog import load_catalog
from edgecoach.coach.generator import LineGenerator
from edgecoach.coach.lines import LineBank
from edgecoach.coach.model import (
    LINES_FILE,
    MANIFEST,
    MODEL_FILE,
    VOCAB_FILE,
    CoachModel,
    StepModel,
)
from edgecoach.coach.vocabulary import PAD, Vocabulary
from edgecoach.paths import CONFIG_DIR, MODELS_DIR, file_sha256
from training.data import (
    CORPUS_DIR,
    batches,
    controls_of,
    corpus_hash,
    examples,
    read_corpus,
    split,
)
from training.net import CoachNet, StepNet

log = logging.getLogger("training")
FLOAT_FILE = "coach-float.onnx"


@dataclasses.dataclass(frozen=True)
class TrainSettings:
    seed: int = 1234
    threads: int = 2
    embed: int = 128
    hidden: int = 256
    layers: int = 2
    dropout: float = 0.3
    epochs: int = 24
    batch_size: int = 64
    learning_rate: float = 4e-3
    weight_decay: float = 0.01
    held_out: float = 0.05
    eval_lines: int = 420


def evaluate_loss(net: CoachNet, items, pad: int) -> float:
    net.eval()
    total = count = 0.0
    with torch.no_grad():
        for inputs, targets in batches(items, 128, pad, None):
            logits = net(inputs)
            total += torch.nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                ignore_index=-100, reduction="sum").item()
            count += (targets != -100).sum().item()
    return total / max(count, 1)


def train(settings: TrainSettings, train_items, val_items, vocab_size: int,
          pad: int) -> tuple[CoachNet, list[dict]]:
    net = CoachNet(vocab_size, settings.embed, settings.hidden, settings.layers,
                   settings.dropout)
    optimizer = torch.optim.AdamW(net.parameters(), lr=settings.learning_rate,
                                  weight_decay=settings.weight_decay)
    steps = settings.epochs * math.ceil(len(train_items) / settings.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=settings.learning_rate, total_steps=steps, pct_start=0.1)
    order = random.Random(settings.seed)
    history = []
    for epoch in range(settings.epochs):
        net.train()
        total = count = 0.0
        for inputs, targets in batches(train_items, settings.batch_size, pad, order):
            logits = net(inputs)
            loss = torch.nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            total += loss.item()
            count += 1
        val = evaluate_loss(net, val_items, pad) if val_items else float("nan")
        history.append({"epoch": epoch + 1, "trainLoss": total / count, "valLoss": val})
        log.info("epoch %d train %.3f val %.3f", epoch + 1, total / count, val)
    return net, history


def export(net: CoachNet, float_path: Path, int8_path: Path) -> None:
    step = StepNet(net).eval()
    token = torch.zeros(2, dtype=torch.long)
    hidden = torch.zeros(net.gru.num_layers, 2, net.gru.hidden_size)
    torch.onnx.export(
        step, (token, hidden), str(float_path), input_names=["token", "hidden"],
        output_names=["logits", "hidden_out"], opset_version=17, dynamo=False,
        dynamic_axes={"token": {0: "batch"}, "hidden": {1: "batch"}, "logits": {0: "batch"},
                      "hidden_out": {1: "batch"}})
    quantize_dynamic(str(float_path), str(int8_path), weight_type=QuantType.QInt8)


def validity(model_dir: Path, model_file: str, bank: LineBank, count: int) -> dict:
    model = CoachModel(model_dir, {"modelVersion": "eval"}, Vocabulary.load(
        model_dir / VOCAB_FILE), StepModel.open(model_dir / model_file))
    generator = LineGenerator(model, bank)
    return figures(generate_samples(generator, load_catalog(CONFIG_DIR), count, seed=99), bank)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m training.train", description=__doc__)
    parser.add_argument("--out", type=Path, default=MODELS_DIR / "coach")
    parser.add_argument("--corpus", type=Path, default=CORPUS_DIR,
                        help="folder of <persona>.jsonl files")
    parser.add_argument("--epochs", type=int, default=TrainSettings.epochs)
    parser.add_argument("--eval-lines", type=int, default=TrainSettings.eval_lines)
    parser.add_argument("--batch-size", type=int, default=TrainSettings.batch_size)
    parser.add_argument("--learning-rate", type=float, default=TrainSettings.learning_rate)
    parser.add_argument("--threads", type=int, default=TrainSettings.threads,
                        help="torch threads (1 is faster when other work shares the CPU)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    settings = TrainSettings(epochs=args.epochs, eval_lines=args.eval_lines,
                             threads=args.threads, batch_size=args.batch_size,
                             learning_rate=args.learning_rate)
    started = time.monotonic()
    random.seed(settings.seed)
    np.random.seed(settings.seed)
    torch.manual_seed(settings.seed)
    torch.set_num_threads(settings.threads)

    rows = read_corpus(args.corpus)
    vocabulary = Vocabulary.build((row["text"] for row in rows), controls_of(rows))
    train_rows, val_rows = split(rows, settings.held_out, settings.seed)
    pad = vocabulary.id(PAD)
    log.info("corpus: %d lines, vocabulary %d tokens", len(rows), len(vocabulary))
    net, history = train(settings, examples(train_rows, vocabulary),
                         examples(val_rows, vocabulary), len(vocabulary), pad)
    train_seconds = time.monotonic() - started

    with tempfile.TemporaryDirectory() as tmp:
        stage = Path(tmp)
        export(net, stage / FLOAT_FILE, stage / MODEL_FILE)
        vocabulary.save(stage / VOCAB_FILE)
        with (stage / LINES_FILE).open("w") as file:
            for row in rows:
                file.write(json.dumps({key: row[key] for key in ("persona", "trigger", "tags",
                                                                 "text")}) + "\n")
        bank = LineBank.load(stage / LINES_FILE)
        floats = validity(stage, FLOAT_FILE, bank, settings.eval_lines)
        int8 = validity(stage, MODEL_FILE, bank, settings.eval_lines)
        log.info("validity float %.1f%% int8 %.1f%%", floats["validityPercent"],
                 int8["validityPercent"])
        shipped = (MODEL_FILE, VOCAB_FILE, LINES_FILE)
        corpus = corpus_hash(args.corpus)
        manifest = {
            "modelVersion": f"coach-gru{settings.hidden}x{settings.layers}-{corpus[:8]}",
            "architecture": {"kind": "word-level GRU decoder, one ONNX step per token",
                             "vocabulary": len(vocabulary), "embed": settings.embed,
                             "hidden": settings.hidden, "layers": settings.layers,
                             "quantization": "onnxruntime dynamic, int8 weights"},
            "files": {name: {"sha256": file_sha256(stage / name),
                             "bytes": (stage / name).stat().st_size} for name in shipped},
            "corpusSha256": corpus,
            "corpusLines": {p: sum(r["persona"] == p for r in rows) for p in ("alice", "aiden")},
            "training": {**dataclasses.asdict(settings), "torch": torch.__version__,
                         "trainSeconds": round(train_seconds, 1),
                         "finalTrainLoss": round(history[-1]["trainLoss"], 4),
                         "finalValLoss": round(history[-1]["valLoss"], 4)},
            "evaluation": {
                "lines": settings.eval_lines,
                "floatValidityPercent": round(floats["validityPercent"], 2),
                "int8ValidityPercent": round(int8["validityPercent"], 2),
                "floatFileMB": round((stage / FLOAT_FILE).stat().st_size / 1e6, 3),
                "int8FileMB": round((stage / MODEL_FILE).stat().st_size / 1e6, 3),
                "int8": {k: round(v, 3) for k, v in int8.items()},
            },
        }
        args.out.mkdir(parents=True, exist_ok=True)
        for name in shipped:
            shutil.copyfile(stage / name, args.out / name)
        (args.out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    log.info("wrote %s in %.0f s", args.out, time.monotonic() - started)


if __name__ == "__main__":
    main()
