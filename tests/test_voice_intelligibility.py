"""The word error rate: the recognizer on a known clip, the arithmetic, the bench figure."""

import numpy as np
import pytest
import soundfile

from edgecoach.bench import voice as voice_bench
from edgecoach.voice.intelligibility import (
    Recognizer,
    normalized_words,
    resampled,
    word_error_rate,
    word_errors,
)
from tests.conftest import REPO_ROOT

# Piper's aiden voice without noise, resampled to 16 kHz, 2.7 s.
KNOWN_CLIP = REPO_ROOT / "tests" / "data" / "ten-reps-at-sixty-kilos.wav"
KNOWN_TEXT = "Ten reps at sixty kilos. Rest now."


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer()


@pytest.fixture(scope="module")
def known_clip() -> tuple[np.ndarray, int]:
    samples, rate = soundfile.read(KNOWN_CLIP, dtype="int16")
    return samples, rate


def test_the_recognizer_hears_a_known_clip(recognizer: Recognizer, known_clip) -> None:
    heard = recognizer.transcribe(*known_clip)
    assert word_errors(normalized_words(KNOWN_TEXT), normalized_words(heard)) <= 1, heard


def test_a_clip_at_pipers_rate_is_resampled_before_recognition(recognizer: Recognizer,
                                                                known_clip) -> None:
    samples, rate = known_clip
    at_piper_rate = resampled(samples, rate, 22050)
    assert abs(len(at_piper_rate) / 22050 - len(samples) / rate) < 0.01
    heard = recognizer.transcribe(at_piper_rate, 22050)
    assert word_error_rate([KNOWN_TEXT], [heard]) <= 1 / 7, heard


def test_the_same_sounds_in_the_wrong_order_are_not_the_words(recognizer: Recognizer,
                                                               known_clip) -> None:
    samples, rate = known_clip
    heard = recognizer.transcribe(samples[::-1].copy(), rate)
    assert word_error_rate([KNOWN_TEXT], [heard]) >= 0.5, heard


def test_word_errors_count_substitutions_deletions_and_insertions() -> None:
    said = ["ten", "reps", "at", "sixty", "kilos"]
    assert word_errors(said, said) == 0
    assert word_errors(said, ["ten", "reps", "at", "fifty", "kilos"]) == 1
    assert word_errors(said, ["ten", "reps", "sixty", "kilos"]) == 1
    assert word_errors(said, ["ten", "reps", "at", "sixty", "kilos", "now"]) == 1
    assert word_errors(said, []) == 5 and word_errors([], ["hi"]) == 1


def test_the_rate_is_errors_over_reference_words() -> None:
    assert normalized_words("One hundred forty-six, that's it!") == [
        "one", "hundred", "forty", "six", "that's", "it"]
    # 1 error in 2 words and 0 in 6: 1/8 over all words, not the mean of 1/2 and 0.
    assert word_error_rate(["Go now.", "Ten reps at sixty kilos, go."],
                           ["go now", "ten reps at sixty kilos go"]) == 0.0
    assert word_error_rate(["Go now.", "Ten reps at sixty kilos, go."],
                           ["no now", "ten reps at sixty kilos go"]) == 1 / 8


def test_the_bench_prints_the_word_error_rate_per_voice(capsys) -> None:
    voice_bench.main(["--intelligibility-only", "--intelligibility-lines", "1"])
    printed = capsys.readouterr().out
    for voice in ("aiden", "alice", "alice untreated"):
        row = next(line for line in printed.splitlines() if line.startswith(f"{voice} "))
        assert "WER" in row and "median F0" in row and "RTF" in row
    assert "WER alice / aiden:" in printed


def test_the_bench_refuses_more_lines_than_it_has(capsys) -> None:
    with pytest.raises(SystemExit) as stopped:
        voice_bench.main(["--intelligibility-lines", "1000"])
    assert stopped.value.code == 2
    assert "--intelligibility-lines must be 0-48" in capsys.readouterr().err
