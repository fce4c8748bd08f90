"""How clearly each persona speaks: word error rate on fixed lines, beside F0 and RTF.

Part of `python -m edgecoach.bench voice`. Every persona speaks the same lines, and each
treated persona also untreated (its own Piper settings, no pitch or formant shift): the
untreated voice is the reference the treatment is judged against. pocketsphinx
recognizes the clips (voice/intelligibility.py); the interval beside each rate is a
bootstrap over the lines (5-95 %), which shows how much the choice of lines moves it.
Piper draws durations and noise at random, so a second run differs too: run it twice.

The lines: 48 corpus lines (training/corpus/*.jsonl, 24 per persona, drawn once at
random with 6-14 words) with their slots filled by typical values, numbers written as
words so the reference is what Piper says: squats, set three, ten reps, sixty kilos,
ninety seconds, four minutes ten, six and a half hours, strain sixty-two, 146 beats,
five sets, 2,400 kilos. Fixed here so the figure stays comparable while the corpus
changes.
"""

import time

import numpy as np

from edgecoach.voice import VoiceService
from edgecoach.voice.analysis import median_f0
from edgecoach.voice.intelligibility import Recognizer, normalized_words, word_errors
from edgecoach.voice.synthesizer import PersonaVoice

BOOTSTRAP_DRAWS = 2000

INTELLIGIBILITY_LINES = [
    # The shortest first: `--intelligibility-lines 1` (the test) stays quick.
    "Finisher, ten reps. Own every rep.",
    "Two thousand four hundred kilos at strain sixty-two. Recovery day done right.",
    "One hundred forty-six beats, that's your max. Walk and recover.",
    "Lovely lap of squats. Without heart data, check in with how your legs feel.",
    "Shut it down. Heart one hundred forty-six, strain sixty-two, easy walk from here.",
    "Last set, new best, ten reps. Perfect close.",
    "Five sets at strain sixty-two. No heart data, good day.",
    "Personal best and strain sixty-two! A light day with a big win, how lovely.",
    "Starting lap three. Begin a touch easier than you think, then settle.",
    "Heart's past one hundred fifty. Back it down.",
    "Set three of squats. Lock in.",
    "Personal best and strain sixty-two, a big day. Recover well; you've earned it.",
    "Good set. Shake it out, ninety seconds on the clock.",
    "New record in four minutes ten, strain sixty-two. Balanced effort with a brilliant result.",
    "Here comes the final lap of squats. Finish with control and pride.",
    "Five sets, two thousand four hundred kilos, strain sixty-two. Solid work.",
    "Low band at strain sixty-two. Find another gear.",
    "Last lap of squats. Finish fast.",
    "Set three of squats: ten reps at sixty kilos. Brace gently and let's go.",
    "Look how far we've come, strain sixty-two. Steady and strong from here.",
    "You slept six and a half hours, so no max attempts today.",
    "Five sets at strain sixty-two. Big work, sleep early.",
    "Let's add a little spark; you're at one hundred forty-six, under the target.",
    "Nicely recovered. Let's restart the squats smoothly rather than all at once.",
    "Faster. Heart at one hundred forty-six is below target.",
    "Interval done in four minutes ten. Breathe, reset.",
    "Five laps in four minutes ten. No heart data today.",
    "Final squats set and you're rested. Prove it.",
    "We've reached strain sixty-two, a lovely middle ground. Keep this steady, honest effort.",
    "Record broken, two thousand four hundred kilos moved. Go eat like you earned it.",
    "Six and a half hours of sleep. You're charged, use it.",
    "Off we go on lap three, the very first. Smooth, steady, and comfortable.",
    "Strain sixty-two and the tank is full. Go hard.",
    "Last round at sixty kilos. Leave nothing.",
    "Strain sixty-two at one hundred forty-six beats. Stay smooth, no spikes.",
    "First set of squats, ten reps. Find the groove.",
    "Easy does it, strain sixty-two. Good on you for keeping today relaxed.",
    "Finished at strain sixty-two. That was a demanding session, so take it easy tomorrow.",
    "Lap three, lovely. Hold a pace that lets you speak in short sentences.",
    "Steady one hundred forty-six beats, peak strain sixty-two. Let's wrap this up softly.",
    "A soft beginning at strain sixty-two, just how I like it. Keep breathing steadily.",
    "Opening lap of squats. Think of it as a warm welcome for your legs.",
    "We've found a lovely working rhythm at strain sixty-two. Let's keep breathing into it.",
    "Your strain's at sixty-two. No more pushing today; soft movement and long breaths.",
    "Set three of squats, ten reps. Let's keep every rep clean and unhurried.",
    "We're at strain sixty-two, a proper working session now. Keep that lovely form.",
    "Four minutes ten for that lap, smooth work. Rest ninety seconds and stay loose.",
    "Begin when you're settled. Set three, ten reps of squats, nice and fluid.",
]

def bootstrap_interval(errors: np.ndarray, words: np.ndarray,
                       reference_errors: np.ndarray | None = None) -> tuple[float, float]:
    """5-95 % interval of the error rate (or of its ratio to the reference's) over lines
    drawn again with replacement."""
    rng = np.random.default_rng(0)
    draws = rng.integers(0, len(errors), (BOOTSTRAP_DRAWS, len(errors)))
    if reference_errors is None:
        values = errors[draws].sum(axis=1) / words[draws].sum(axis=1)
    else:
        values = errors[draws].sum(axis=1) / np.maximum(reference_errors[draws].sum(axis=1), 1)
    low, high = np.percentile(values, [5, 95])
    return float(low), float(high)


def voices_to_compare(service: VoiceService) -> dict[str, PersonaVoice]:
    """Every persona, and each treated one also untreated (the reference)."""
    voices = dict(service.voices)
    for persona, voice in service.voices.items():
        if voice.treatment is not None:
            voices[f"{persona} untreated"] = PersonaVoice(persona, voice.piper, voice.files,
                                                          voice.settings)
    return voices


def line_errors(voice: PersonaVoice, recognizer: Recognizer,
                lines: list[str]) -> tuple[np.ndarray, float, float]:
    """Word errors per line, the median of the lines' median F0, and the real-time factor
    of the whole synthesis (treatment included)."""
    errors, f0s, seconds, spent = [], [], 0.0, 0.0
    for text in lines:
        started = time.perf_counter()
        audio = voice.synthesize(text)
        spent += time.perf_counter() - started
        seconds += audio.seconds
        heard = recognizer.transcribe(audio.samples, audio.sample_rate)
        errors.append(word_errors(normalized_words(text), normalized_words(heard)))
        f0s.append(median_f0(audio.samples, audio.sample_rate))
    return np.array(errors), float(np.median(f0s)), spent / seconds


def report(service: VoiceService, count: int) -> dict[str, float]:
    """Print the word error rate of every voice over `count` fixed lines; returns them."""
    lines = INTELLIGIBILITY_LINES[:count]
    words = np.array([len(normalized_words(text)) for text in lines])
    recognizer = Recognizer()
    print(f"\n== intelligibility: pocketsphinx 5 (en-us), {len(lines)} fixed lines, "
          f"{words.sum()} words")
    errors: dict[str, np.ndarray] = {}
    for name, voice in voices_to_compare(service).items():
        errors[name], f0, rtf = line_errors(voice, recognizer, lines)
        low, high = bootstrap_interval(errors[name], words)
        print(f"{name:16s} WER {errors[name].sum() / words.sum():6.1%} "
              f"({low:.1%}-{high:.1%})  median F0 {f0:5.0f} Hz  RTF {rtf:.3f}")
    if {"alice", "aiden"} <= errors.keys():
        for name in ("alice", "alice untreated"):
            if name in errors:
                ratio = errors[name].sum() / max(errors["aiden"].sum(), 1)
                low, high = bootstrap_interval(errors[name], words, errors["aiden"])
                print(f"WER {name} / aiden: {ratio:.2f} ({low:.2f}-{high:.2f})"
                      + ("  (<= 1.2 wanted)" if name == "alice" else ""))
    return {name: float(found.sum() / words.sum()) for name, found in errors.items()}
