"""How well a machine understands a voice: word error rate by an offline recognizer.

pocketsphinx (a test dependency, imported when used) with the US-English acoustic model,
trigram language model and dictionary its wheel ships. Its absolute error rate says
little (a small general model, coaching words it rarely expects); what the voice
benchmark reads is the ratio between two voices speaking the same texts.
"""

import re

import numpy as np
from pedalboard.io import StreamResampler

RECOGNIZER_RATE = 16_000  # what the shipped acoustic model was trained on


def normalized_words(text: str) -> list[str]:
    """Lower-case words as the recognizer's dictionary spells them ("forty-six" is two)."""
    return re.findall(r"[a-z']+", text.lower().replace("-", " "))


def word_errors(reference: list[str], hypothesis: list[str]) -> int:
    """Substitutions, deletions and insertions that turn the reference into the hypothesis."""
    row = list(range(len(hypothesis) + 1))
    for index, word in enumerate(reference, 1):
        previous, row[0] = row[0], index
        for column, heard in enumerate(hypothesis, 1):
            previous, row[column] = row[column], min(
                row[column] + 1, row[column - 1] + 1, previous + (word != heard))
    return row[-1]


def word_error_rate(references: list[str], hypotheses: list[str]) -> float:
    """Errors over all lines divided by the reference words (longer lines weigh more)."""
    pairs = [(normalized_words(said), normalized_words(heard))
             for said, heard in zip(references, hypotheses, strict=True)]
    words = sum(len(said) for said, _ in pairs)
    return sum(word_errors(said, heard) for said, heard in pairs) / max(words, 1)


def resampled(samples: np.ndarray, sample_rate: int, target_rate: int) -> np.ndarray:
    """Float32 mono audio at `target_rate` (band-limited windowed-sinc resampling)."""
    scale = 32768.0 if samples.dtype == np.int16 else 1.0
    audio = (samples.astype(np.float32) / scale).reshape(1, -1)
    resampler = StreamResampler(sample_rate, target_rate, 1)
    return np.concatenate([resampler.process(audio), resampler.process(None)], axis=1)[0]


class Recognizer:
    """pocketsphinx's shipped US-English models; one utterance at a time."""

    def __init__(self) -> None:
        from pocketsphinx import Decoder

        self.decoder = Decoder(samprate=RECOGNIZER_RATE, loglevel="FATAL")

    def transcribe(self, samples: np.ndarray, sample_rate: int) -> str:
        """The words heard in a mono clip (int16 or float in [-1, 1]); '' for none."""
        audio = resampled(samples, sample_rate, RECOGNIZER_RATE)
        pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16)
        self.decoder.start_utt()
        self.decoder.process_raw(pcm.tobytes(), full_utt=True)
        self.decoder.end_utt()
        hypothesis = self.decoder.hyp()
        return hypothesis.hypstr if hypothesis is not None else ""
