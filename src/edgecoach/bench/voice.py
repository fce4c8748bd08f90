"""`python -m edgecoach.bench voice`: Piper persona voices and the SQLite audio cache.

Loads the voices as the daemon does (config/personas.toml, models/voices.toml) into a
fresh SQLite file, then prints for 20 typical coaching lines: model load time,
synthesis p50/p95 and real-time factor per persona, time to first audio (the first
piece a line streams) and the gaps a player starting with it would meet, our synthesis
time over bare `PiperVoice.synthesize` on the same lines and settings, cache-hit
lookup+decode p50/p95, each persona's median F0 (Praat, floor 60, ceiling 400),
formants and speaking rate on the same sentence, and the process peak RSS once the
voice is loaded and `--fill` lines are cached (read before bare Piper loads its own copy
of the model for the comparison). Targets: hit p95 <= 5 ms; ours/bare
<= 1.05 (untreated persona); RTF of a 2-4 s line <= 0.06 untreated, <= 0.10 treated;
peak RSS <= 300 MB with 200 lines cached. `--pi-class`: pinned to one core, every
thread pool at one thread (bench/pi_class.py), bare Piper's session too. Last, the word
error rate of each voice (bench/voice_intelligibility.py): alice's over aiden's <= 1.2.
"""

import argparse
import json
import resource
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime
from piper import PiperVoice

from edgecoach.bench import voice_intelligibility
from edgecoach.bench.pi_class import HELP, voice_threads
from edgecoach.catalog import load_catalog
from edgecoach.paths import CONFIG_DIR, MODELS_DIR
from edgecoach.settings import CacheSettings
from edgecoach.store import Store
from edgecoach.voice import VoiceService
from edgecoach.voice.analysis import profile
from edgecoach.voice.synthesizer import PersonaVoice

LINES = [
    "Set three. Ten reps at sixty kilos. Go.",
    "Good work. Rest for ninety seconds.",
    "Heart rate is one seventy two. Ease off a little.",
    "Last set. Make every rep count.",
    "Strong finish. That was your best set today.",
    "Breathe out on the way up. Keep your back straight.",
    "Two more reps. Stay with it.",
    "Nice pace. Hold this for another minute.",
    "You slept six hours. We will keep today light.",
    "Lock in. Eight reps, eighty kilos. Now.",
    "Rest is over. Next set in five seconds.",
    "Your strain is at sixty. Good zone, keep it there.",
    "Slow it down. Control the weight on the way down.",
    "Great session. Drink some water and stretch.",
    "Heart rate is back to one twenty. Ready when you are.",
    "Halfway there. Your form looks solid.",
    "Shoulders down, chest up. Twelve reps.",
    "That set was heavy. Take the full rest.",
    "Push through the last three. You have it.",
    "Workout done. Forty minutes, strain seventy four.",
]
SAME_SENTENCE = "Good work. Take a breath, stay steady, and get ready for the next set."
HIT_REPEATS = 5


def percentile(values: list[float], share: float) -> float:
    return float(np.percentile(values, share * 100))


def ms(values: list[float]) -> str:
    return f"p50 {percentile(values, 0.5):7.1f} ms  p95 {percentile(values, 0.95):7.1f} ms"


def bare_piper(voice: PersonaVoice, threads: int | None = None) -> PiperVoice:
    """The voice as Piper itself loads it: the whole graph in one ONNX session (of
    `threads` threads, none spinning, when given)."""
    piper = PiperVoice.load(voice.files.model, config_path=voice.files.config)
    if threads is not None:
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = threads
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        piper.session = onnxruntime.InferenceSession(
            str(voice.files.model), options, providers=["CPUExecutionProvider"])
    return piper


def bare_piper_ms(piper: PiperVoice, voice: PersonaVoice, text: str) -> float:
    """What calling PiperVoice directly costs: synthesize, then int16 as synthesize_wav."""
    started = time.perf_counter()
    np.concatenate([chunk.audio_int16_array
                    for chunk in piper.synthesize(text, syn_config=voice.config)])
    return (time.perf_counter() - started) * 1000


def first_audio_ms(voice: PersonaVoice, text: str) -> tuple[float, float]:
    """The line's first piece (the player starts with it while the rest is made), and
    the longest a player that starts then would wait for a later piece (a gap)."""
    started = time.perf_counter()
    first, due, gap = 0.0, 0.0, 0.0  # seconds after `started`
    for piece in voice.pieces(text):
        if not len(piece):  # empty pieces are pause points, not audio
            continue
        made = time.perf_counter() - started
        if not first:
            first = due = made
        gap = max(gap, made - due)
        due += len(piece) / voice.sample_rate
    return first * 1000, gap * 1000


def bench_persona(service: VoiceService, persona: str,
                  bare: PiperVoice) -> dict[str, list[float]]:
    """Misses through the service, interleaved with bare Piper on the same line."""
    voice = service.voices[persona]
    figures: dict[str, list[float]] = {"miss": [], "synth": [], "bare": [], "rtf": [],
                                       "rtf_2_4": [], "first": [], "gap": [], "hit": []}
    service.speak(persona, "Warm up the voice.")  # first inference allocates buffers
    for text in LINES:
        started = time.perf_counter()
        audio = voice.synthesize(text)
        synth = (time.perf_counter() - started) * 1000
        figures["synth"].append(synth)
        figures["bare"].append(bare_piper_ms(bare, voice, text))
        line = service.speak(persona, text)  # a miss: synthesis + FLAC + SQLite commit
        figures["miss"].append(line.tts_latency_ms)
        first, gap = first_audio_ms(voice, text)
        figures["first"].append(first)
        figures["gap"].append(gap)
        rtf = synth / 1000 / audio.seconds
        figures["rtf"].append(rtf)
        if 2.0 <= audio.seconds <= 4.0:
            figures["rtf_2_4"].append(rtf)
    for _ in range(HIT_REPEATS):
        for text in LINES:
            line = service.speak(persona, text)
            assert line.cache_hit
            figures["hit"].append(line.tts_latency_ms)
    return figures


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fill_cache(service: VoiceService, count: int) -> float:
    """Cache `count` more distinct corpus lines; returns the seconds it took."""
    corpus = [json.loads(row) for row in
              (MODELS_DIR / "coach" / "lines.jsonl").read_text().splitlines() if row]
    started = time.perf_counter()
    for row in corpus[:count]:
        service.speak(row["persona"], row["text"])
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m edgecoach.bench voice",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--fill", type=int, default=200,
                        help="corpus lines to cache before reading the peak RSS")
    parser.add_argument("--pi-class", action="store_true", help=HELP)
    parser.add_argument("--intelligibility-lines", type=int, default=48, metavar="N",
                        help="fixed lines for the word error rate (0 skips it)")
    parser.add_argument("--intelligibility-only", action="store_true",
                        help="load the voices and measure only the word error rate")
    args = parser.parse_args(argv)
    if not 0 <= args.intelligibility_lines <= len(voice_intelligibility.INTELLIGIBILITY_LINES):
        parser.error(f"--intelligibility-lines must be 0-"
                     f"{len(voice_intelligibility.INTELLIGIBILITY_LINES)}")
    threads = voice_threads(args.pi_class)
    catalog = load_catalog(CONFIG_DIR)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "bench.db")
        started = time.perf_counter()
        service = VoiceService.load(catalog.personas, store.database, CacheSettings(),
                                    MODELS_DIR, threads)
        load_s = time.perf_counter() - started
        print(f"voice load (hash check + ONNX session, {len(service.voices)} personas, "
              f"one model): {load_s * 1000:.0f} ms; peak RSS {peak_rss_mb():.0f} MB")
        if not args.intelligibility_only:
            timings(service, args.fill, threads)
        if args.intelligibility_lines:  # last: the recognizer's memory is not the daemon's
            voice_intelligibility.report(service, args.intelligibility_lines)
        store.close()


def timings(service: VoiceService, fill: int, threads: int | None = None) -> None:
    """Cache, latency, RTF, F0 and memory figures (everything but intelligibility)."""
    filled = fill_cache(service, fill)
    stats = service.cache.stats()
    started = time.perf_counter()
    service.evict()
    evict_ms = (time.perf_counter() - started) * 1000
    print(f"cache filled with {fill} corpus lines in {filled:.1f} s: "
          f"{stats.entries} clips, {stats.bytes / 2**20:.1f} MB FLAC "
          f"({stats.bytes / max(stats.entries, 1) / 1024:.0f} KB a clip); evict "
          f"{evict_ms:.1f} ms")
    print(f"peak RSS, voices loaded and {fill} lines cached: {peak_rss_mb():.0f} MB")
    bare: dict[Path, PiperVoice] = {}
    for persona, voice in service.voices.items():
        engine = voice.treatment.name if voice.treatment else "untreated"
        print(f"\n== {persona} ({voice.files.voice_id}, {engine}, lengthScale "
              f"{voice.settings.length_scale}) — {len(LINES)} lines")
        if voice.files.model not in bare:
            bare[voice.files.model] = bare_piper(voice, threads)
        figures = bench_persona(service, persona, bare[voice.files.model])
        print(f"synthesis            {ms(figures['synth'])}")
        print(f"miss via speak()     {ms(figures['miss'])}  (+ FLAC + SQLite commit)")
        print(f"bare PiperVoice      {ms(figures['bare'])}")
        ratio = sum(figures["synth"]) / sum(figures["bare"])
        miss_ratio = sum(figures["miss"]) / sum(figures["bare"])
        print(f"ours / bare Piper    synthesis {ratio:.3f}   speak() miss {miss_ratio:.3f}")
        print(f"real-time factor     all p50 {percentile(figures['rtf'], 0.5):.3f}  "
              f"2-4 s lines ({len(figures['rtf_2_4'])}) mean "
              f"{statistics.fmean(figures['rtf_2_4'] or [0]):.3f} "
              f"p95 {percentile(figures['rtf_2_4'] or [0], 0.95):.3f}")
        print(f"time to first audio  {ms(figures['first'])}  (the first piece; the line "
              "plays from it)")
        gaps = [gap for gap in figures["gap"] if gap > 0]
        print(f"gaps when played as made: {len(gaps)} of {len(LINES)} lines, longest "
              f"{max(figures['gap']):.0f} ms")
        print(f"cache hit            {ms(figures['hit'])}  (lookup + checksum + FLAC "
              f"decode, {len(figures['hit'])} hits)")
    print(f"\n== the same sentence in both voices: {SAME_SENTENCE!r}")
    profiles = {}
    for persona in service.voices:
        line = service.speak(persona, SAME_SENTENCE)
        profiles[persona] = found = profile(line.audio, line.sample_rate, SAME_SENTENCE)
        f1, f2, f3 = found.formants_hz
        print(f"{persona:6s} median F0 {found.median_f0_hz:6.1f} Hz  formants F1 {f1:4.0f} "
              f"F2 {f2:4.0f} F3 {f3:4.0f} Hz  speech {found.speech_seconds:.2f} s  "
              f"{found.syllables_per_second:.2f} syllables/s")
    if {"alice", "aiden"} <= profiles.keys():
        high, low = profiles["alice"].median_f0_hz, profiles["aiden"].median_f0_hz
        print(f"F0 alice / aiden     {high / low:.2f} (>= 1.15 wanted)")
    print(f"\nprocess peak RSS, bare Piper's session included: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
