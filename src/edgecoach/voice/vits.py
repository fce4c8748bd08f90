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

import functools
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime

log = logging.getLogger(__name__)

DECODER_FIRST_NODE = "/dec/conv_pre/Conv"
# The flow's inputs in Piper's export: the prior with its noise (z_p) and the frame mask.
FLOW_INPUTS = ("/Add_output_0", "/Cast_2_output_0")
ENCODER_FILE, DECODER_FILE, WHOLE_MARK = "encoder.onnx", "decoder.onnx", "unsplittable"
FLOW_FILE = "flow.onnx"
# In the parts' directory name: an older split's parts are not read, and are deleted once
# this layout's open (60 MB each; an older daemon started again splits again).
PARTS_LAYOUT = "flow-int8"
# The first window is short, so a line's first audio comes soon (0.37 s of speech; 96
# frames took about twice as long to decode); each next one is at most as long as all
# before it (decoded while they play: a second of 64 frames left a gap at load 4), up
# to 1.1 s. A window's activations, about 32 MB a second of audio with its context, make
# the daemon's peak: 96 frames kept lines' peaks 10-20 MB under 128 at 1 % more CPU over
# 40 lines (64: 25 MB, but 15 % more CPU).
FIRST_WINDOW_FRAMES = 32
MAX_WINDOW_FRAMES = 96
CONTEXT_FRAMES = 16  # receptive field under 12 frames, measured; 16 for other voices
# The flow (four couplings of four WaveNet layers, kernel 5) sees 32 frames each side:
# windowed with 32 frames of context it gives the same latent, bit for bit (24: 3e-5 off).
FLOW_CONTEXT_FRAMES = 32
NO_AUDIO = np.zeros(0, dtype=np.float32)


def _session(model: Path, spinning: bool = True, threads: int | None = None,
             arena: bool = False) -> onnxruntime.InferenceSession:
    """`threads` None: ONNX Runtime's pool of one thread per core; a number: that many,
    none spinning (under qemu, idle spinning threads took the cores of the working one).
    `arena`: the process's shared arena (the decoder's windows), else none."""
    options = onnxruntime.SessionOptions()
    if threads is not None:
        options.intra_op_num_threads = options.inter_op_num_threads = threads
        spinning = False
    if not spinning:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # A memory pattern is planned per input shape, and every sentence has its own: the
    # arena grew by 23 MB over 120 windows with them, not at all without (same speed).
    options.enable_mem_pattern = False
    if arena:
        _register_window_arena()
        options.add_session_config_entry("session.use_env_allocators", "1")
    else:
        # No arena: the encoder's and flow's buffers (a whole sentence's, of any length)
        # go back to the heap, trimmed after each line.
        options.enable_cpu_mem_arena = False
    return onnxruntime.InferenceSession(str(model), options,
                                        providers=["CPUExecutionProvider"])


@functools.cache  # once per process: every decoder shares the one arena
def _register_window_arena() -> None:
    """One arena for the decoder's windows, kept for the process's life.

    Without it each window's buffers came from glibc's heap: windows of every length
    left it fragmented, and a line's synthesis peaked 74 MB over the settled size (40
    corpus lines), 35 of them the window's working set and the rest free heap that no
    buffer fitted. The arena keeps a window's working set (26-30 MB held) and reuses
    it, so the peak over lines fell to 25 MB above the settled size, at the same CPU.
    Growing by the size asked, not by powers of two, held 26 MB more (40 lines)."""
    memory = onnxruntime.OrtMemoryInfo("Cpu", onnxruntime.OrtAllocatorType.ORT_ARENA_ALLOCATOR,
                                       0, onnxruntime.OrtMemType.DEFAULT)
    # max memory 0 (no cap), next power of two, default initial chunk and dead bytes
    onnxruntime.create_and_register_allocator(memory, onnxruntime.OrtArenaCfg(0, 0, -1, -1))


class SplitVitsSession:
    """Stands in for Piper's InferenceSession: `run` encodes, then decodes in windows.

    When the flow is split too (`flow`), the encoder stops at the prior and each window's
    latent comes from the flow run on that window alone (with its context): the first
    audio no longer waits for the flow over the whole sentence.
    """

    def __init__(self, encoder: Path, decoder: Path, threads: int | None = None,
                 flow: Path | None = None) -> None:
        # Each session has its own thread pool, whose idle threads may spin (busy-wait)
        # for the next op. None spins: with short windows a line is many runs, and the
        # decoder's spinning pool, measured over 40 corpus lines (load 1.4-2), took
        # 18-21 % more CPU for the same time (29.5 against 34.9 CPU s, 17.4 against
        # 17.6 s; before the short windows 22.1 against 26.8, 12.9 against 13.7 s). The
        # encoder's would spin through the decoder's runs and take its cores.
        self.encoder = _session(encoder, spinning=False, threads=threads)
        self.flow = _session(flow, spinning=False, threads=threads) if flow else None
        self.decoder = _session(decoder, spinning=False, threads=threads, arena=True)
        self.latent_name = self.decoder.get_inputs()[0].name

    def run(self, output_names: Any, input_feed: dict[str, Any],
            run_options: onnxruntime.RunOptions | None = None) -> list[np.ndarray]:
        """Piper's call: the audio as the one output, shaped (1, 1, samples)."""
        audio = np.concatenate(list(self.stream(input_feed, run_options)))
        return [audio.reshape(1, 1, -1)]

    def stream(self, input_feed: dict[str, Any],
               run_options: onnxruntime.RunOptions | None = None,
               quick_start: bool = True) -> Iterator[np.ndarray]:
        """A sentence's audio window by window, each yielded as soon as it is decoded;
        an empty array after the encoder and after a run cut short (see `preemptible`).
        `quick_start`: short first windows, the first with a flow run of its own (a
        line someone waits for); else windows of the max from the start, less work."""
        encoded = yield from preemptible(self.encoder, input_feed, run_options)
        yield NO_AUDIO  # between the encoder and the decoder: a point to pause
        frames = encoded[0].shape[2]
        whole = None  # the sentence's latent, made after the first window
        first_frames = FIRST_WINDOW_FRAMES if quick_start else MAX_WINDOW_FRAMES
        for start, end in windows(frames, first_frames):
            first, last = _with_context(start, end, frames, CONTEXT_FRAMES)
            if whole is None and start == 0 and quick_start:  # a short run of its own
                latent = yield from self._latent(encoded, first, last, run_options)
            else:  # one flow run for the rest: each window's own tripled its work
                if whole is None:
                    whole = yield from self._latent(encoded, 0, frames, run_options)
                    yield NO_AUDIO  # between the flow and the decoder: a point to pause
                latent = whole[:, :, first:last]
            audio = yield from preemptible(self.decoder, {self.latent_name: latent},
                                           run_options)
            yield _cut(audio[0], first, last, start, end)

    def encode(self, input_feed: dict[str, Any]) -> np.ndarray:
        """The whole sentence's latent (1, channels, frames), as the decoder takes it."""
        encoded = self.encoder.run(None, input_feed)
        return _finished(self._latent(encoded, 0, encoded[0].shape[2], None))

    def decode(self, latent: np.ndarray, start: int, end: int) -> np.ndarray:
        """The audio of frames [start, end) of a latent (1, channels, frames)."""
        first, last = _with_context(start, end, latent.shape[2], CONTEXT_FRAMES)
        audio = self.decoder.run(None, {self.latent_name: latent[:, :, first:last]})[0]
        return _cut(audio, first, last, start, end)

    def _latent(self, encoded: list[np.ndarray], first: int, last: int,
                run_options: onnxruntime.RunOptions | None
                ) -> Generator[np.ndarray, None, np.ndarray]:
        """Latent frames [first, last): the encoder's, or the flow's run on them and
        their context (a run cut short yields, as `preemptible`)."""
        if self.flow is None:
            return encoded[0][:, :, first:last]
        low, high = _with_context(first, last, encoded[0].shape[2], FLOW_CONTEXT_FRAMES)
        feed = {name: tensor[:, :, low:high] for name, tensor in zip(FLOW_INPUTS, encoded,
                                                                       strict=True)}
        flowed = yield from preemptible(self.flow, feed, run_options)
        return flowed[0][:, :, first - low:last - low]


def _with_context(start: int, end: int, frames: int, context: int) -> tuple[int, int]:
    return max(0, start - context), min(frames, end + context)


def _cut(audio: np.ndarray, first: int, last: int, start: int, end: int) -> np.ndarray:
    """Of the audio of frames [first, last), the samples of [start, end)."""
    audio = audio.reshape(-1)
    hop = len(audio) // (last - first)
    return audio[(start - first) * hop:(end - first) * hop]


def _finished(steps: Generator[np.ndarray, None, np.ndarray]) -> np.ndarray:
    """The value of a generator run to its end (its pause points passed over)."""
    try:
        while True:
            next(steps)
    except StopIteration as done:
        return done.value


def preemptible(session: onnxruntime.InferenceSession, feed: dict[str, Any],
                run_options: onnxruntime.RunOptions | None
                ) -> Generator[np.ndarray, None, list[np.ndarray]]:
    """Run `session` to its outputs; a run cut short (another thread set
    `run_options.terminate`: a live line wants the cores) yields an empty array (a
    point to pause) and runs again once resumed. The caller clears the flag before it
    resumes (VoiceService)."""
    while True:
        try:
            return session.run(None, feed, run_options)
        except Exception:  # onnxruntime's Fail carries no type of its own for this
            if run_options is None or not run_options.terminate:
                raise
        log.debug("a voice run cut short by a live line")
        yield NO_AUDIO


def windows(frames: int, first: int = FIRST_WINDOW_FRAMES) -> Iterator[tuple[int, int]]:
    """[start, end) frame ranges: a short first window, then each at most as long as all
    before it (it is decoded while they play), up to the max; a last one of a few frames
    is joined to the one before, or made longer when that would pass the max."""
    start = 0
    while start < frames:
        end = min(frames, start + min(MAX_WINDOW_FRAMES, max(first, start)))
        few = FIRST_WINDOW_FRAMES // 2
        if frames - end < few:  # a last window of a few frames: joined, or made longer
            end = frames if frames - start <= MAX_WINDOW_FRAMES else frames - few
        yield start, end
        start = end


def sentence_audio(session: SplitVitsSession | onnxruntime.InferenceSession,
                   input_feed: dict[str, Any],
                   run_options: onnxruntime.RunOptions | None = None,
                   quick_start: bool = True) -> Iterator[np.ndarray]:
    """Raw float audio of one sentence: in windows when split (`quick_start`: see
    SplitVitsSession.stream), else whole; empty arrays are points to pause."""
    if isinstance(session, SplitVitsSession):
        yield from session.stream(input_feed, run_options, quick_start)
    else:
        audio = yield from preemptible(session, input_feed, run_options)
        yield audio[0].reshape(-1)


def load_vits_session(model: Path, sha256: str, cache_dir: Path, threads: int | None = None
                      ) -> SplitVitsSession | onnxruntime.InferenceSession:
    """The voice's graph, split into `cache_dir` the first time a model file is seen."""
    parts = cache_dir / "voices" / f"{sha256[:32]}-{PARTS_LAYOUT}"
    try:
        session = _open_parts(model, parts, threads)
    except Exception as error:  # onnxruntime raises many kinds
        # A part damaged on disk: split again, once (a corrupt model fails again).
        log.warning("voice parts in %s unusable (%s): splitting again", parts, error)
        shutil.rmtree(parts, ignore_errors=True)
        session = _open_parts(model, parts, threads)
    _delete_older_layouts(parts, sha256[:32])
    return session


def _delete_older_layouts(parts: Path, model_key: str) -> None:
    """The same model's parts split by an older version (`<key>`, `<key>-<layout>`)."""
    for older in parts.parent.glob(f"{model_key}*"):
        if older != parts and older.is_dir() and (older.name == model_key
                                                  or older.name.startswith(f"{model_key}-")):
            log.info("deleting %s: voice parts of an older layout", older)
            shutil.rmtree(older, ignore_errors=True)


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
    flow = parts / FLOW_FILE
    return SplitVitsSession(parts / ENCODER_FILE, parts / DECODER_FILE, threads,
                            flow if flow.is_file() else None)


def split_model(model: Path, parts: Path, int8: bool = True) -> None:
    """Write encoder.onnx, flow.onnx (when the flow's inputs are found) and decoder.onnx
    (or the unsplittable mark) into `parts`; `int8`: the encoder's and flow's
    convolution weights stored as int8 (`int8_weights`; float32 for comparing)."""
    import onnx
    from onnx.utils import Extractor

    from edgecoach.voice.int8_weights import store_conv_weights_as_int8

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
    produced = {output for node in graph.graph.node for output in node.output}
    flow_inputs = list(FLOW_INPUTS)
    flow = extractor.extract_model(flow_inputs, [latent]) if set(flow_inputs) <= produced else None
    if flow is not None and _self_contained(flow, flow_inputs):
        split = [(ENCODER_FILE, extractor.extract_model(inputs, flow_inputs)), (FLOW_FILE, flow)]
    else:  # another export, or a flow that needs more (a speaker): the encoder keeps it
        split = [(ENCODER_FILE, extractor.extract_model(inputs, [latent]))]
    if int8:  # not the decoder, where the CPU goes
        for _, model_part in split:
            store_conv_weights_as_int8(model_part)
    # The decoder last: its presence says the split is complete (a crash leaves none).
    for name, model_part in [*split, (DECODER_FILE, extractor.extract_model([latent], outputs))]:
        partial = parts / f"{name}.{os.getpid()}.partial"  # two splitting at once
        onnx.save(model_part, str(partial))
        partial.replace(parts / name)


def _self_contained(model: Any, inputs: list[str]) -> bool:
    """Whether every node of `model` reads only `inputs`, initializers or its own outputs."""
    known = {*inputs, *(tensor.name for tensor in model.graph.initializer),
             *(output for node in model.graph.node for output in node.output)}
    return all(not name or name in known for node in model.graph.node for name in node.input)


if __name__ == "__main__":
    split_model(Path(sys.argv[1]), Path(sys.argv[2]))
