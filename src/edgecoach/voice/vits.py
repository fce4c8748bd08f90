"""Piper's VITS graph run in two parts, so a long sentence costs bounded memory.

A Piper voice is one ONNX graph: the text encoder, duration predictor and flow make a
latent at the frame rate (one frame per 256 samples), then a HiFi-GAN decoder turns it
into audio. The decoder's activations grow with the audio (about 32 MB per second of
speech for a medium voice), so one long sentence briefly added 100-170 MB to the
process. The decoder is convolutional with a receptive field under 12 frames: decoding
the latent in windows with CONTEXT_FRAMES of context on each side gives the same
samples (tested), and ONNX Runtime's arena settles at the working set of one window
instead of growing to that of the longest sentence ever spoken.

The graph is split once per model file, with the onnx package in a child process (its
copy of the model in protobuf never counts against the daemon), into the cache
directory. A graph that cannot be split (no `/dec/conv_pre` node) runs whole, as
Piper runs it.

    python -m edgecoach.voice.vits MODEL.onnx OUT_DIR   # what the child process runs
"""

import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime

log = logging.getLogger(__name__)

DECODER_FIRST_NODE = "/dec/conv_pre/Conv"
ENCODER_FILE, DECODER_FILE, WHOLE_MARK = "encoder.onnx", "decoder.onnx", "unsplittable"
# The first window is short, so a line's first audio comes soon (0.37 s of speech; 96
# frames took about twice as long to decode); the second is twice as long (decoded while
# the first plays), the rest of a sentence decodes in equal windows up to 1.5 s.
# 192 frames cost 46 MB more at the peak than 128.
FIRST_WINDOW_FRAMES = 32
MAX_WINDOW_FRAMES = 128
CONTEXT_FRAMES = 16  # receptive field under 12 frames, measured; 16 for other voices
NO_AUDIO = np.zeros(0, dtype=np.float32)


def _session(model: Path, spinning: bool = True,
             threads: int | None = None) -> onnxruntime.InferenceSession:
    """`threads` None: ONNX Runtime's pool of one thread per core; a number: that many,
    none spinning (under qemu, idle spinning threads took the cores of the working one)."""
    options = onnxruntime.SessionOptions()
    if threads is not None:
        options.intra_op_num_threads = options.inter_op_num_threads = threads
        spinning = False
    if not spinning:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # A memory pattern is planned per input shape, and every sentence has its own: the
    # arena grew by 23 MB over 120 windows with them, not at all without (same speed).
    options.enable_mem_pattern = False
    # No arena at all: a run's buffers go back to the heap (trimmed after each line), so
    # the daemon does not keep the working set of its largest window and sentence: 44 MB
    # less after a few lines, measured, at the same speed (the buffers are large).
    options.enable_cpu_mem_arena = False
    return onnxruntime.InferenceSession(str(model), options,
                                        providers=["CPUExecutionProvider"])


class SplitVitsSession:
    """Stands in for Piper's InferenceSession: `run` encodes, then decodes in windows."""

    def __init__(self, encoder: Path, decoder: Path, threads: int | None = None) -> None:
        # Each session has its own thread pool, whose idle threads spin (busy-wait) for
        # the next op. The decoder's many small ops gain from it; the encoder's threads
        # would spin through the decoder's run and take its cores. Measured over the
        # benchmark's 20 lines against bare Piper: both spinning 1.45x, neither 1.16x,
        # the decoder alone 1.02-1.04x.
        self.encoder = _session(encoder, spinning=False, threads=threads)
        self.decoder = _session(decoder, threads=threads)
        self.latent_name = self.decoder.get_inputs()[0].name

    def run(self, output_names: Any, input_feed: dict[str, Any],
            run_options: onnxruntime.RunOptions | None = None) -> list[np.ndarray]:
        """Piper's call: the audio as the one output, shaped (1, 1, samples)."""
        audio = np.concatenate(list(self.stream(input_feed, run_options)))
        return [audio.reshape(1, 1, -1)]

    def stream(self, input_feed: dict[str, Any],
               run_options: onnxruntime.RunOptions | None = None) -> Iterator[np.ndarray]:
        """A sentence's audio window by window, each yielded as soon as it is decoded;
        an empty array after the encoder and after a run cut short (see `preemptible`)."""
        latent = yield from preemptible(self.encoder, input_feed, run_options)
        yield NO_AUDIO  # between the encoder and the decoder: a point to pause
        for start, end in windows(latent.shape[2]):
            feed, cut = self._window(latent, start, end)
            yield cut((yield from preemptible(self.decoder, feed, run_options)))

    def decode(self, latent: np.ndarray, start: int, end: int) -> np.ndarray:
        """The audio of frames [start, end) of a latent (1, channels, frames)."""
        feed, cut = self._window(latent, start, end)
        return cut(self.decoder.run(None, feed)[0])

    def _window(self, latent: np.ndarray, start: int,
                end: int) -> tuple[dict[str, np.ndarray], Callable[[np.ndarray], np.ndarray]]:
        """The decoder's feed for frames [start, end) with their context on each side, and
        what keeps of its audio the samples of [start, end)."""
        first, last = max(0, start - CONTEXT_FRAMES), min(latent.shape[2], end + CONTEXT_FRAMES)

        def cut(audio: np.ndarray) -> np.ndarray:
            audio = audio.reshape(-1)
            hop = len(audio) // (last - first)
            return audio[(start - first) * hop:(end - first) * hop]

        return {self.latent_name: latent[:, :, first:last]}, cut


def preemptible(session: onnxruntime.InferenceSession, feed: dict[str, Any],
                run_options: onnxruntime.RunOptions | None) -> Generator[np.ndarray, None, Any]:
    """Run `session` to its first output; a run cut short (another thread set
    `run_options.terminate`: a live line wants the cores) yields an empty array (a
    point to pause) and runs again once resumed. The caller clears the flag before it
    resumes (VoiceService)."""
    while True:
        try:
            return session.run(None, feed, run_options)[0]
        except Exception:  # onnxruntime's Fail carries no type of its own for this
            if run_options is None or not run_options.terminate:
                raise
        log.debug("a voice run cut short by a live line")
        yield NO_AUDIO


def windows(frames: int) -> Iterator[tuple[int, int]]:
    """[start, end) frame ranges: a short first window, a second twice as long, then
    equal ones up to the max."""
    first = min(frames, FIRST_WINDOW_FRAMES)
    yield 0, first
    second = 3 * first
    if frames - second < first // 2:  # no window of a few frames after it
        second = frames
    if second > first:
        yield first, second
    rest = frames - second
    if rest <= 0:
        return
    size = -(-rest // -(-rest // MAX_WINDOW_FRAMES))
    for start in range(second, frames, size):
        yield start, min(frames, start + size)


def sentence_audio(session: SplitVitsSession | onnxruntime.InferenceSession,
                   input_feed: dict[str, Any],
                   run_options: onnxruntime.RunOptions | None = None) -> Iterator[np.ndarray]:
    """Raw float audio of one sentence: in windows when split, else whole; empty arrays
    are points to pause."""
    if isinstance(session, SplitVitsSession):
        yield from session.stream(input_feed, run_options)
    else:
        audio = yield from preemptible(session, input_feed, run_options)
        yield audio.reshape(-1)


def load_vits_session(model: Path, sha256: str, cache_dir: Path, threads: int | None = None
                      ) -> SplitVitsSession | onnxruntime.InferenceSession:
    """The voice's graph, split into `cache_dir` the first time a model file is seen."""
    parts = cache_dir / "voices" / sha256[:32]
    try:
        return _open_parts(model, parts, threads)
    except Exception as error:  # onnxruntime raises many kinds
        # A part damaged on disk: split again, once (a corrupt model fails again).
        log.warning("voice parts in %s unusable (%s): splitting again", parts, error)
        shutil.rmtree(parts, ignore_errors=True)
        return _open_parts(model, parts, threads)


def _open_parts(model: Path, parts: Path,
                threads: int | None) -> SplitVitsSession | onnxruntime.InferenceSession:
    if not (parts / DECODER_FILE).is_file() and not (parts / WHOLE_MARK).is_file():
        log.info("splitting %s into encoder and decoder (once per model file)", model)
        done = subprocess.run([sys.executable, "-m", __name__, str(model), str(parts)],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            lines = done.stderr.strip().splitlines()
            raise RuntimeError(lines[-1] if lines else f"split exited {done.returncode}")
    if (parts / WHOLE_MARK).is_file():
        log.warning("%s: decoder not found in the graph; it runs whole", model)
        return _session(model, threads=threads)
    return SplitVitsSession(parts / ENCODER_FILE, parts / DECODER_FILE, threads)


def split_model(model: Path, parts: Path) -> None:
    """Write encoder.onnx and decoder.onnx (or the unsplittable mark) into `parts`."""
    import onnx
    from onnx.utils import Extractor

    graph = onnx.load(str(model))
    first = [node for node in graph.graph.node if node.name == DECODER_FIRST_NODE]
    parts.mkdir(parents=True, exist_ok=True)
    if not first:
        (parts / WHOLE_MARK).write_text(f"no {DECODER_FIRST_NODE} node\n")
        return
    latent = first[0].input[0]
    inputs = [tensor.name for tensor in graph.graph.input]
    outputs = [tensor.name for tensor in graph.graph.output]
    extractor = Extractor(graph)
    # The decoder last: its presence says the split is complete (a crash leaves none).
    for name, model_part in ((ENCODER_FILE, extractor.extract_model(inputs, [latent])),
                             (DECODER_FILE, extractor.extract_model([latent], outputs))):
        partial = parts / f"{name}.{os.getpid()}.partial"  # two splitting at once
        onnx.save(model_part, str(partial))
        partial.replace(parts / name)


if __name__ == "__main__":
    split_model(Path(sys.argv[1]), Path(sys.argv[2]))
