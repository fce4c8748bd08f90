"""The voice's encoder and flow with int8 weights against float32: memory, CPU and sound.

    python -m edgecoach.bench int8 [--lines N] [--runs 3]

The shipped voice is split twice into a temporary directory, once as the daemon splits
it (int8 weights, voice/int8_weights.py) and once all float32. Each split then:

- speaks the lines in a fresh child process, which prints its RSS once loaded and after
  the lines, its peak, and its CPU for the lines (noise on, as the daemon speaks); the
  two splits take turns, `--runs` times each, and every run is printed (their spread);
- speaks them noise off: the distance between the two splits' spectra (log-mel, aligned,
  voice/analysis.py) is what int8 changes; set beside it is the distance between two
  float32 renderings with Piper's noise, which every line has anyway;
- is heard by pocketsphinx: the word error rate of each (noise on).

The lines are the voice benchmark's 48 fixed ones (bench/voice_intelligibility.py).
"""

import argparse
import functools
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from piper import PiperConfig, PiperVoice

from edgecoach.bench.voice import percentile
from edgecoach.bench.voice_intelligibility import INTELLIGIBILITY_LINES
from edgecoach.paths import MODELS_DIR
from edgecoach.voice.analysis import aligned_spectral_distance_db
from edgecoach.voice.intelligibility import Recognizer, word_error_rate
from edgecoach.voice.manifest import resolve_voice
from edgecoach.voice.vits import (
    DECODER_FILE,
    ENCODER_FILE,
    FLOW_FILE,
    SplitVitsSession,
    split_model,
)

VOICE = "en_US-joe-medium"


@functools.cache
def _phonemizer() -> PiperVoice:
    """The voice's config and phonemizer, no graph loaded (the children measure that)."""
    config = json.loads(resolve_voice(VOICE, MODELS_DIR).config.read_text(encoding="utf-8"))
    return PiperVoice(session=None, config=PiperConfig.from_dict(config))  # type: ignore[arg-type]


def _feeds(texts: list[str], noise: bool) -> list[list[dict[str, np.ndarray]]]:
    """Per text, the inputs of each of its sentences: with the voice's own noise, or none."""
    piper = _phonemizer()
    config = piper.config
    scales = [config.noise_scale if noise else 0.0, config.length_scale,
              config.noise_w_scale if noise else 0.0]
    return [[{"input": np.array([ids], dtype=np.int64),
              "input_lengths": np.array([len(ids)], dtype=np.int64),
              "scales": np.array(scales, dtype=np.float32)}
             for ids in (piper.phonemes_to_ids(sentence) for sentence in piper.phonemize(text))]
            for text in texts]


def _open(parts: Path) -> SplitVitsSession:
    return SplitVitsSession(parts / ENCODER_FILE, parts / DECODER_FILE, flow=parts / FLOW_FILE)


def _speak(session: SplitVitsSession, sentences: list[dict[str, np.ndarray]]) -> np.ndarray:
    return np.concatenate([session.run(None, feed)[0].reshape(-1) for feed in sentences])


def _rss_mb(field: str = "VmRSS") -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status
                    if line.startswith(f"{field}:")) / 1024


def child(parts: Path, lines: int) -> None:
    """In a fresh process: memory and CPU of one split speaking the lines."""
    feeds = _feeds(INTELLIGIBILITY_LINES[:lines], noise=True)
    before = _rss_mb()
    session = _open(parts)
    loaded = _rss_mb()
    cpu = []
    for sentences in feeds:
        started = time.process_time()
        _speak(session, sentences)
        cpu.append(time.process_time() - started)
    print(json.dumps({"loaded_mb": loaded - before, "after_mb": _rss_mb() - before,
                      "peak_mb": _rss_mb("VmHWM") - before,
                      "cpu_ms": [seconds * 1000 for seconds in cpu]}))


def _measure(parts: Path, lines: int) -> dict:
    done = subprocess.run([sys.executable, "-m", "edgecoach.bench", "int8", "--child",
                           str(parts), "--lines", str(lines)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m edgecoach.bench int8",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=len(INTELLIGIBILITY_LINES),
                        help=f"fixed lines spoken (1-{len(INTELLIGIBILITY_LINES)})")
    parser.add_argument("--runs", type=int, default=3,
                        help="child processes per split, taking turns (1-20)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not 1 <= args.lines <= len(INTELLIGIBILITY_LINES):
        parser.error(f"--lines must be 1-{len(INTELLIGIBILITY_LINES)}")
    if not 1 <= args.runs <= 20:
        parser.error("--runs must be 1-20")
    if args.child:
        child(args.child, args.lines)
        return
    model = resolve_voice(VOICE, MODELS_DIR).model
    texts = INTELLIGIBILITY_LINES[:args.lines]
    with tempfile.TemporaryDirectory() as tmp:
        splits = {"int8": Path(tmp) / "int8", "float32": Path(tmp) / "float32"}
        for name, parts in splits.items():
            split_model(model, parts, int8=name == "int8")
            size = sum(path.stat().st_size for path in parts.glob("*.onnx")) / 2**20
            print(f"{name}: parts {size:.1f} MB on disk", flush=True)
        for run in range(1, args.runs + 1):
            for name, parts in splits.items():
                figures = _measure(parts, args.lines)
                print(f"{name} run {run}: RSS held by the voice once loaded "
                      f"{figures['loaded_mb']:.1f} MB, after {args.lines} lines "
                      f"{figures['after_mb']:.1f} MB, peak {figures['peak_mb']:.1f} MB; CPU "
                      f"{sum(figures['cpu_ms']) / 1000:.2f} s, per line p50 "
                      f"{percentile(figures['cpu_ms'], 0.5):.0f} ms, p95 "
                      f"{percentile(figures['cpu_ms'], 0.95):.0f} ms", flush=True)
        _compare_sound(splits, texts)


def _compare_sound(splits: dict[str, Path], texts: list[str]) -> None:
    rate = _phonemizer().config.sample_rate
    sessions = {name: _open(parts) for name, parts in splits.items()}
    quiet, noisy = _feeds(texts, noise=False), _feeds(texts, noise=True)
    int8_apart, draws_apart = [], []
    heard: dict[str, list[str]] = {name: [] for name in sessions}
    recognizer = Recognizer()
    for still, sentences in zip(quiet, noisy, strict=True):
        int8_apart.append(aligned_spectral_distance_db(
            _speak(sessions["int8"], still), _speak(sessions["float32"], still), rate))
        first = _speak(sessions["float32"], sentences)
        draws_apart.append(aligned_spectral_distance_db(
            first, _speak(sessions["float32"], sentences), rate))
        heard["float32"].append(recognizer.transcribe(first, rate))
        heard["int8"].append(recognizer.transcribe(_speak(sessions["int8"], sentences), rate))
    print(f"spectra, int8 against float32 (noise off): mean {np.mean(int8_apart):.2f} dB, "
          f"max {np.max(int8_apart):.2f} dB; two float32 renderings (Piper's noise): mean "
          f"{np.mean(draws_apart):.2f} dB, min {np.min(draws_apart):.2f} dB")
    for name, words in heard.items():
        print(f"{name}: word error rate {word_error_rate(texts, words) * 100:.1f} % "
              f"({len(texts)} lines, one rendering each)")
