"""The Piper graph split into encoder and windowed decoder: same audio, bounded windows."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime
import pytest

from edgecoach.paths import MODELS_DIR
from edgecoach.voice.analysis import aligned_spectral_distance_db
from edgecoach.voice.manifest import resolve_voice
from edgecoach.voice.synthesizer import load_piper
from edgecoach.voice.vits import (
    DECODER_FILE,
    ENCODER_FILE,
    FIRST_WINDOW_FRAMES,
    FLOW_FILE,
    MAX_WINDOW_FRAMES,
    PARTS_LAYOUT,
    SplitVitsSession,
    load_vits_session,
    windows,
)

# About 5 s of speech in one sentence: three decoder windows.
SAMPLE_RATE = 22050  # the voice's
LONG_SENTENCE = ("Keep your chest up, drive through the whole foot, and breathe out hard "
                 "as you stand up with the bar for the last three reps of this set")


@pytest.fixture(scope="module")
def voice_files():
    return resolve_voice("en_US-joe-medium", MODELS_DIR)


def feeds(voice_files, text: str) -> dict[str, np.ndarray]:
    piper = load_piper(voice_files)
    ids = piper.phonemes_to_ids(piper.phonemize(text)[0])
    # Noise off: the graph is deterministic, so two runs can be compared sample by sample.
    return {"input": np.array([ids], dtype=np.int64),
            "input_lengths": np.array([len(ids)], dtype=np.int64),
            "scales": np.array([0.0, 1.0, 0.0], dtype=np.float32)}


def test_the_windows_give_the_same_samples_as_one_run(voice_files, tmp_path: Path) -> None:
    split = load_vits_session(voice_files.model, voice_files.sha256, tmp_path)
    assert isinstance(split, SplitVitsSession) and split.flow is not None  # windowed too
    inputs = feeds(voice_files, LONG_SENTENCE)
    latent = split.encoder.run(None, inputs)[0]
    assert latent.shape[2] > 2 * MAX_WINDOW_FRAMES  # the windows really are exercised
    # The flow and the decoder each run once over the whole sentence.
    whole_latent = split.encode(inputs)
    expected = split.decoder.run(None, {split.latent_name: whole_latent})[0].reshape(-1)
    actual = split.run(None, inputs)[0].reshape(-1)
    assert actual.shape == expected.shape
    assert np.max(np.abs(actual - expected)) < 1e-5  # far under one int16 step
    # Speculation's long windows from the start: fewer runs, the same samples.
    quick = [piece for piece in split.stream(inputs) if len(piece)]
    slow = [piece for piece in split.stream(inputs, quick_start=False) if len(piece)]
    assert len(slow) < len(quick) and len(slow[0]) == MAX_WINDOW_FRAMES * 256
    assert np.max(np.abs(np.concatenate(slow) - expected)) < 1e-5


def test_the_int8_split_sounds_like_piper_s_whole_graph(voice_files, tmp_path: Path) -> None:
    """int8 weights change a sentence's spectra far less than Piper's own noise does."""
    split = load_vits_session(voice_files.model, voice_files.sha256, tmp_path)
    parts = next((tmp_path / "voices").iterdir())
    assert sum((parts / name).stat().st_size for name in (ENCODER_FILE, FLOW_FILE)) < 20e6
    whole = onnxruntime.InferenceSession(str(voice_files.model),
                                         providers=["CPUExecutionProvider"])
    inputs = feeds(voice_files, LONG_SENTENCE)
    expected = whole.run(None, inputs)[0].reshape(-1)
    actual = split.run(None, inputs)[0].reshape(-1)
    assert abs(len(actual) - len(expected)) < 0.02 * len(expected)  # timing nearly kept
    int8_apart = aligned_spectral_distance_db(actual, expected, SAMPLE_RATE)
    noisy = {**inputs, "scales": np.array([0.667, 1.0, 0.0], dtype=np.float32)}
    draws_apart = aligned_spectral_distance_db(whole.run(None, noisy)[0].reshape(-1),
                                               whole.run(None, noisy)[0].reshape(-1),
                                               SAMPLE_RATE)
    assert int8_apart < 1.5 and int8_apart < draws_apart / 2, (int8_apart, draws_apart)


FIRST = FIRST_WINDOW_FRAMES


@pytest.mark.parametrize("frames", [1, FIRST, FIRST + 1, 3 * FIRST + 1, 3 * FIRST + FIRST // 2,
                                    431])
def test_the_windows_cover_a_sentence_short_first(frames: int) -> None:
    """A short first window (the first audio), then none longer than all before it
    (decoded while they play; a few frames more for a last one joined) nor than the max,
    and none of a few frames at the end."""
    spans = list(windows(frames))
    assert spans[0][0] == 0 and spans[-1][1] == frames
    assert all(end == start for (_, end), (start, _) in zip(spans, spans[1:], strict=False))
    assert spans[0][1] == FIRST_WINDOW_FRAMES or len(spans) == 1
    for start, end in spans[1:]:
        assert 0 < end - start <= min(MAX_WINDOW_FRAMES, start + FIRST_WINDOW_FRAMES // 2)
    if len(spans) > 1:
        assert spans[-1][1] - spans[-1][0] >= FIRST_WINDOW_FRAMES // 2


def test_a_damaged_cached_part_is_split_again(voice_files, tmp_path: Path) -> None:
    load_vits_session(voice_files.model, voice_files.sha256, tmp_path)
    decoder = next(tmp_path.glob(f"voices/*/{DECODER_FILE}"))
    decoder.write_bytes(b"half a file")
    session = load_vits_session(voice_files.model, voice_files.sha256, tmp_path)
    assert isinstance(session, SplitVitsSession)
    assert decoder.stat().st_size > 1_000_000


def test_only_the_decoder_keeps_an_arena(voice_files, tmp_path: Path) -> None:
    """The decoder's windows share one arena; the encoder's and flow's buffers (a whole
    sentence's, of any length) go back to the heap."""
    session = load_vits_session(voice_files.model, voice_files.sha256, tmp_path)
    assert isinstance(session, SplitVitsSession)
    for part in (session.encoder, session.flow):
        assert part.get_session_options().enable_cpu_mem_arena is False
    decoder = session.decoder.get_session_options()
    assert decoder.get_session_config_entry("session.use_env_allocators") == "1"


SYNTHESIS_PEAK_PROBE = """
import tempfile
from pathlib import Path
from edgecoach.memory import limit_heap_arenas
limit_heap_arenas()
from edgecoach.catalog import load_catalog
from edgecoach.paths import CONFIG_DIR
from edgecoach.settings import load_settings
from edgecoach.store import Store
from edgecoach.voice import VoiceService
settings = load_settings(data_dir=Path(tempfile.mkdtemp()))
voice = VoiceService.load(load_catalog(CONFIG_DIR).personas,
                          Store.open(settings.database_path).database, settings.cache,
                          settings.models_dir, settings.voice_threads)
def status(field):
    with open("/proc/self/status") as lines:
        return int(next(l for l in lines if l.startswith(field)).split()[1]) / 1024
voice.speak("aiden", "Good set.")
with open("/proc/self/clear_refs", "w") as peak:
    peak.write("5")
settled = status("VmRSS")
for persona in ("aiden", "alice"):
    for text in TEXTS:
        voice.speak(persona, text)
print(status("VmHWM") - settled)
"""
# Sentences of every length: windows of many sizes, as lines come.
PEAK_TEXTS = ("Good set.", "Five reps at eighty kilos, then rest for two minutes.",
              "Your heart is at one sixty two, at the top of our zone, so breathe out slowly "
              "and let your shoulders drop.", LONG_SENTENCE)
# Above the settled size, 8 lines: 67-72 MB with every window's buffers from glibc's heap
# (fragmented by windows of every size), 17-20 MB with the decoder's arena.
SYNTHESIS_PEAK_BUDGET_MB = 40


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc")
def test_a_lines_synthesis_peaks_little_above_the_settled_size() -> None:
    probe = f"TEXTS = {PEAK_TEXTS!r}\n" + SYNTHESIS_PEAK_PROBE
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120, check=True)
    peak = float(done.stdout)
    assert peak < SYNTHESIS_PEAK_BUDGET_MB, f"{peak:.1f} MB over the settled size"


def test_older_layouts_of_the_same_voice_are_deleted(voice_files, tmp_path: Path) -> None:
    voices = tmp_path / "voices"
    key = voice_files.sha256[:32]
    older = [voices / key, voices / f"{key}-flow"]
    kept = [voices / f"{'0' * 32}-flow", voices / "notes.txt"]  # another voice; a file
    for folder in [*older, kept[0]]:
        folder.mkdir(parents=True)
        (folder / DECODER_FILE).write_bytes(b"old")
    kept[1].write_text("kept")
    load_vits_session(voice_files.model, voice_files.sha256, tmp_path)
    assert not any(folder.exists() for folder in older)
    assert all(path.exists() for path in kept)
    assert (voices / f"{key}-{PARTS_LAYOUT}" / DECODER_FILE).is_file()
