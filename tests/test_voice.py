"""Real Piper synthesis through the SQLite audio cache, and the persona voices."""

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from edgecoach.catalog import load_catalog
from edgecoach.contract import VoiceSettings
from edgecoach.errors import VoiceError
from edgecoach.paths import CONFIG_DIR, MODELS_DIR
from edgecoach.settings import CacheSettings
from edgecoach.store import Store
from edgecoach.voice import VoiceService
from edgecoach.voice.analysis import count_syllables, median_f0, profile
from edgecoach.voice.cache import AudioCache
from edgecoach.voice.manifest import resolve_voice
from edgecoach.voice.synthesizer import (
    LIMIT_KNEE,
    LOUDNESS_DBFS,
    PersonaVoice,
    load_piper,
    soft_limit,
)
from edgecoach.voice.treatment import (
    HOP_SECONDS,
    LOOKAHEAD_SECONDS,
    PsolaShift,
    overlap_add,
    pitch_periods,
)
from edgecoach.voice.vits import FIRST_WINDOW_FRAMES

LINE = "Five reps at eighty kilos. Rest now."


@pytest.fixture(scope="module")
def shared_voices() -> dict[str, PersonaVoice]:
    """The voices loaded once for the module (loading is the slow part)."""
    catalog = load_catalog(CONFIG_DIR)
    store = Store.open(":memory:")
    try:
        service = VoiceService.load(catalog.personas, store.database, CacheSettings(),
                                    MODELS_DIR)
    finally:
        store.close()
    return service.voices


@pytest.fixture
def voice(shared_voices: dict[str, PersonaVoice], store: Store) -> VoiceService:
    """A service over a real SQLite file in tmp_path, on the fake clock."""
    return VoiceService(shared_voices, AudioCache(store.database, 200 * 2**20, 86400))


def cached_row(store: Store, key: str) -> dict:
    with store.database.reading() as db:
        return next(db.query("select * from audio_cache where cacheKey = ?", [key]))


def test_a_miss_synthesizes_and_a_hit_returns_the_same_audio(voice: VoiceService,
                                                             store: Store) -> None:
    first = voice.speak("aiden", LINE)
    assert not first.cache_hit and 1.0 < first.audio_length_s < 5.0
    assert first.audio.dtype == np.int16 and first.sample_rate == 22050
    second = voice.speak("aiden", LINE)
    assert second.cache_hit and second.cache_key == first.cache_key
    assert np.array_equal(first.audio, second.audio)  # lossless
    voice.flush()
    row = cached_row(store, first.cache_key)
    assert row["format"] == "flac" and row["quality"] == "medium" and row["hitCount"] == 1
    assert row["personaId"] == "aiden" and row["fileSize"] < first.audio.nbytes
    assert row["expiresAt"] == pytest.approx(row["createdAt"] + 86400)


def test_keys_differ_by_persona_text_settings_and_model(
        voice: VoiceService, shared_voices: dict[str, PersonaVoice]) -> None:
    keys = {voice.key("alice", LINE), voice.key("aiden", LINE), voice.key("aiden", LINE + "!")}
    aiden = shared_voices["aiden"]
    slower = PersonaVoice("aiden", aiden.piper, aiden.files,
                          aiden.settings.model_copy(update={"length_scale": 1.2}))
    other_model = PersonaVoice("aiden", aiden.piper,
                               aiden.files.__class__(**{**aiden.files.__dict__, "sha256": "0"}),
                               aiden.settings)
    assert len(keys | {slower.fingerprint, other_model.fingerprint, aiden.fingerprint}) == 6


def test_the_personas_sound_like_two_speakers(voice: VoiceService) -> None:
    alice, aiden = voice.speak("alice", LINE), voice.speak("aiden", LINE)
    alice_f0 = median_f0(alice.audio, alice.sample_rate)
    aiden_f0 = median_f0(aiden.audio, aiden.sample_rate)
    assert 170 <= alice_f0 <= 220 and 80 <= aiden_f0 <= 130
    assert alice_f0 >= 1.15 * aiden_f0


def test_the_treatment_raises_the_formants_less_than_the_pitch(
        shared_voices: dict[str, PersonaVoice]) -> None:
    """Formants rise with the pitch (another speaker), but by less (not a chipmunk). One
    noiseless clip before and after: two random clips differ in F2 by a few percent."""
    alice = shared_voices["alice"]
    assert alice.treatment is not None and alice.settings.pitch_median_hz is not None
    source = PersonaVoice("alice", alice.piper, alice.files, alice.settings)._raw(
        LINE, noise=False) * alice.gain
    treated = alice.treatment(source, alice.sample_rate, alice.settings.pitch_median_hz,
                              alice.settings.formant_shift)
    before = profile(soft_limit(source), alice.sample_rate, LINE)
    after = profile(soft_limit(treated), alice.sample_rate, LINE)
    assert after.median_f0_hz > 1.7 * before.median_f0_hz
    assert 1.05 * before.formants_hz[1] < after.formants_hz[1] < 1.4 * before.formants_hz[1]


@pytest.mark.parametrize(
    "text", [LINE, "Sixty-two.", "Strong finish. That was your best set today."])
def test_the_treatment_keeps_the_pitch_in_range_and_the_length(
        shared_voices: dict[str, PersonaVoice], text: str) -> None:
    # Noise off: with Piper's random durations (noiseW) the treated "Sixty-two." fell
    # under 170 Hz in 1 of 30 clips (159-195 Hz); without, each clip is always the same.
    alice = shared_voices["alice"]
    assert alice.treatment is not None and alice.settings.pitch_median_hz is not None
    untreated = PersonaVoice("alice", alice.piper, alice.files, alice.settings)
    source = untreated._raw(text, noise=False) * alice.gain
    treated = alice.treatment(source, alice.sample_rate, alice.settings.pitch_median_hz,
                              alice.settings.formant_shift)
    assert abs(len(treated) / len(source) - 1) < 0.02
    assert 170 <= median_f0(treated, alice.sample_rate) <= 220
    assert median_f0(source, alice.sample_rate) < 130


def pulse_train(f0: float, seconds: float, rate: int = 22050) -> np.ndarray:
    """A voiced-like clip: one decaying 900 Hz burst a period, then silence."""
    clip = np.zeros(int(seconds * rate), dtype=np.float32)
    burst = (np.sin(2 * np.pi * 900 * np.arange(60) / rate)
             * np.exp(-np.arange(60) / 15)).astype(np.float32)
    for start in np.arange(0, len(clip) - 60, rate / f0).astype(int):
        clip[start:start + 60] += burst
    return np.concatenate([clip, np.zeros(rate // 2, dtype=np.float32)])


def test_the_pitch_tracker_finds_the_period_and_the_silence() -> None:
    periods = pitch_periods(pulse_train(110.0, 1.0), 22050, 60.0, 250.0)
    hops_per_second = round(1 / HOP_SECONDS)
    assert np.all(np.abs(periods[5:hops_per_second - 10] - 22050 / 110) <= 2)
    assert not periods[-hops_per_second // 4:].any()  # the half second of silence


def test_psola_moves_the_pitch_by_the_ratio_and_keeps_the_length() -> None:
    clip = pulse_train(110.0, 1.5)
    periods = pitch_periods(clip, 22050, 60.0, 250.0)
    higher = overlap_add(clip, periods, 22050, pitch_ratio=1.8, stretch=1.0)
    assert len(higher) == len(clip)
    assert median_f0(higher, 22050) == pytest.approx(198, rel=0.03)
    assert np.abs(higher[-22050 // 4:]).max() < 1e-6  # silence stays silent


@pytest.mark.parametrize("samples", [0, 1, 500])
def test_a_clip_too_short_for_a_pitch_is_left_as_it_is(samples: int) -> None:
    shift = PsolaShift()
    shift.source_f0 = 95.0
    clip = np.linspace(-0.1, 0.1, samples, dtype=np.float32)
    assert np.array_equal(shift(clip, 22050, 195.0, 1.17), clip)


def test_a_corrupt_blob_is_dropped_and_resynthesized(voice: VoiceService,
                                                     store: Store) -> None:
    first = voice.speak("aiden", LINE)
    with store.database.transaction() as db:
        blob = bytearray(cached_row(store, first.cache_key)["audio"])
        blob[100] ^= 0xFF
        db.execute("update audio_cache set audio = ? where cacheKey = ?",
                   [bytes(blob), first.cache_key])
    again = voice.speak("aiden", LINE)
    # Piper samples noise, so a new synthesis is similar, not identical.
    assert not again.cache_hit and abs(again.audio_length_s - first.audio_length_s) < 0.5
    assert voice.speak("aiden", LINE).cache_hit


def test_eviction_keeps_the_budget_dropping_least_recently_used(voice: VoiceService,
                                                                clock) -> None:
    for line in ["Go.", "Lock in.", "Again."]:
        voice.speak("aiden", line)
        clock.advance(10)
    voice.speak("aiden", "Go.")  # a hit: now the most recently used
    size = voice.cache.stats().bytes
    voice.cache.budget_bytes = size // 2
    result = voice.evict()
    assert result["evicted"] >= 1 and voice.cache.stats().bytes <= size // 2
    assert voice.is_cached("aiden", "Go.") and not voice.is_cached("aiden", "Lock in.")


def test_a_new_clip_over_a_tiny_budget_evicts_at_once(voice: VoiceService, clock) -> None:
    voice.speak("aiden", "Go.")
    voice.cache.budget_bytes = voice.cache.stats().bytes * 3 // 2
    clock.advance(10)
    voice.speak("aiden", "Go!")
    assert voice.is_cached("aiden", "Go!") and not voice.is_cached("aiden", "Go.")


def test_expired_clips_are_not_served(voice: VoiceService, clock) -> None:
    voice.speak("aiden", "Go.")
    clock.advance(86400 + 1)
    assert not voice.is_cached("aiden", "Go.")
    assert not voice.speak("aiden", "Go.").cache_hit  # re-synthesized, and stored again
    clock.advance(86400 + 1)
    assert voice.evict()["expired"] == 1


async def test_speculative_synthesis_prepares_and_can_be_cancelled(
        voice: VoiceService) -> None:
    import asyncio

    assert await voice.prepare("aiden", ["Set two. Go.", "Set two done."]) == 2
    assert voice.is_cached("aiden", "Set two. Go.") and voice.is_cached("aiden", "Set two done.")
    assert await voice.prepare("aiden", ["Set two. Go."]) == 0
    many = [f"Set {n} of twelve." for n in range(3, 13)]
    task = asyncio.create_task(voice.prepare("aiden", many))
    await asyncio.sleep(0.05)  # while the first line synthesizes
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(1.0)  # the line being synthesized finishes in its thread
    made = sum(voice.is_cached("aiden", text) for text in many)
    assert 1 <= made <= 2


def test_a_live_request_joining_a_speculative_synthesis_is_no_miss_and_costs_no_quota(
        voice: VoiceService) -> None:
    text = "Set three is done. Shake out your arms, breathe slowly, and sip some water now."
    speculative = voice.open("aiden", text, live=False)
    charged: list[str] = []
    live = voice.open("aiden", text, before_synthesis=lambda: charged.append(text))
    assert live is speculative and live.live  # raised ahead of other speculation
    line = live.result()
    assert line.prepared and not line.cache_hit and charged == []
    # A line nobody prepared is a new synthesis: charged once, not prepared.
    fresh = voice.open("aiden", "Set four. Go.", before_synthesis=lambda: charged.append("x"))
    assert not fresh.result().prepared and charged == ["x"]


def test_a_missing_voice_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(VoiceError, match="nowhere.onnx"):
        resolve_voice(str(tmp_path / "nowhere.onnx"), MODELS_DIR)


def test_a_corrupt_voice_file_names_the_file(tmp_path: Path) -> None:
    model = tmp_path / "broken.onnx"
    model.write_bytes(b"not an onnx model" * 100)
    model.with_name("broken.onnx.json").write_text('{"audio": {"sample_rate": 22050}}')
    with pytest.raises(VoiceError, match="broken.onnx"):
        load_piper(resolve_voice(str(model), MODELS_DIR))


def test_a_corrupt_voice_config_names_the_file(tmp_path: Path) -> None:
    model = tmp_path / "voice.onnx"
    model.write_bytes(b"x")
    model.with_name("voice.onnx.json").write_text("{not json")
    with pytest.raises(VoiceError, match="voice.onnx.json"):
        resolve_voice(str(model), MODELS_DIR)


def test_a_persona_with_a_missing_voice_stops_the_load(tmp_path: Path) -> None:
    catalog = load_catalog(CONFIG_DIR)
    alice = catalog.personas["alice"]
    broken = alice.model_copy(update={"voice": alice.voice.model_copy(
        update={"model": str(tmp_path / "gone.onnx")})})
    store = Store.open(":memory:")
    try:
        with pytest.raises(VoiceError, match="gone.onnx"):
            VoiceService.load({"alice": broken}, store.database, CacheSettings(), MODELS_DIR)
    finally:
        store.close()


def test_a_voice_that_does_not_match_its_manifest_is_refused(tmp_path: Path) -> None:
    (tmp_path / "voices.toml").write_text(
        (MODELS_DIR / "voices.toml").read_text().replace("sha256 = \"", "sha256 = \"00"))
    with pytest.raises(VoiceError, match="does not match the manifest"):
        resolve_voice("en_US-joe-medium", tmp_path)


def test_an_unknown_persona_is_a_voice_error(voice: VoiceService) -> None:
    with pytest.raises(VoiceError, match="nobody"):
        voice.speak("nobody", LINE)


def test_voice_settings_reject_nonsense() -> None:
    with pytest.raises(ValueError):
        VoiceSettings(length_scale=0)


def test_syllables_are_counted_roughly() -> None:
    assert count_syllables("Take a breath") == 3
    assert count_syllables("Rest now, steady.") == 4


LONG_LINE = ("Heart rate is one seventy two, so ease off a little. Breathe out slowly and "
             "let your shoulders drop. We go again when you feel ready.")


@pytest.mark.parametrize("persona", ["aiden", "alice"])
def test_a_line_streams_in_pieces_that_make_the_cached_audio(voice: VoiceService,
                                                              persona: str) -> None:
    stream = voice.open(persona, LONG_LINE)
    stream.wait_first()
    line = stream.result()
    pieces = list(stream.pieces())
    # The first piece is a fraction of the line: playing starts long before the end.
    assert len(pieces) >= 3 and len(pieces[0]) < len(line.audio) / 3
    assert np.array_equal(np.concatenate(pieces), line.audio)
    hit = voice.speak(persona, LONG_LINE)
    assert hit.cache_hit and np.array_equal(hit.audio, line.audio)


def test_the_treatment_of_a_prefix_is_final_but_for_its_lookahead(
        shared_voices: dict[str, PersonaVoice]) -> None:
    """Treated alone, a clip's start gives the samples of the whole clip treated, up to
    LOOKAHEAD_SECONDS before its end: a sentence can be treated as it is decoded."""
    alice = shared_voices["alice"]
    source = alice._raw(LONG_LINE, noise=False) * alice.gain
    whole = alice._treat(source)
    lookahead = int(LOOKAHEAD_SECONDS * alice.sample_rate)
    for seconds in (0.3, 0.56, 1.0, 2.2):
        end = int(seconds * alice.sample_rate)
        prefix = alice._treat(source[:end])
        assert np.array_equal(prefix[:end - lookahead], whole[:end - lookahead]), seconds


def test_a_treated_sentence_streams_in_pieces_with_no_seam(
        shared_voices: dict[str, PersonaVoice]) -> None:
    """Streamed window by window, a treated sentence is the sentence treated whole, sample
    for sample; its first piece is out after the first window, the level at every join
    is the sentence's own (no click), and its length is the decoded length."""
    alice = shared_voices["alice"]
    rate = alice.sample_rate
    phonemes = [p for p in alice.piper.phonemize(LONG_LINE) if p][0]
    windows = [window * alice.gain for window in alice._windows(phonemes, noise=False)
               if len(window)]
    assert len(windows) >= 3 and len(windows[0]) == FIRST_WINDOW_FRAMES * 256
    given: list[int] = []

    def counted() -> Iterator[np.ndarray]:
        for window in windows:
            given.append(len(window))
            yield window

    pieces, made_after = [], []
    for piece in alice._treated(counted()):
        if len(piece):
            pieces.append(piece)
            made_after.append(len(given))
    source = np.concatenate(windows)
    expected = soft_limit(alice._treat(source))
    assert np.array_equal(np.concatenate(pieces), expected)
    assert abs(len(expected) - len(source)) <= 1
    assert made_after[0] == 1 and len(pieces) >= 3
    # The formant resampling rounds the treated length down by a sample or two.
    assert 0 <= len(windows[0]) - int(LOOKAHEAD_SECONDS * rate) - len(pieces[0]) <= 2
    steps = np.abs(np.diff(expected.astype(np.int32)))
    joins = np.cumsum([len(piece) for piece in pieces])[:-1]
    assert steps[joins - 1].max() <= np.percentile(steps, 99.9)


def test_the_limiter_leaves_speech_alone_and_bends_peaks_under_full_scale() -> None:
    quiet = np.linspace(-LIMIT_KNEE, LIMIT_KNEE, 1001, dtype=np.float32)
    assert np.array_equal(soft_limit(quiet), (quiet * 32767).astype(np.int16))
    loud = np.linspace(LIMIT_KNEE, 4.0, 1001, dtype=np.float32)
    bent = soft_limit(loud)
    assert np.all(np.diff(bent.astype(np.int32)) >= 0) and bent.max() <= 32767
    assert soft_limit(-loud).min() >= -32767


def test_every_voice_speaks_at_its_set_loudness(voice: VoiceService) -> None:
    for persona in ("aiden", "alice"):
        audio = voice.speak(persona, LONG_LINE).audio.astype(np.float32) / 32767
        loudness = 20 * np.log10(np.sqrt(np.mean(audio ** 2)))
        assert abs(loudness - LOUDNESS_DBFS) < 4.0, (persona, loudness)
        assert np.max(np.abs(audio)) < 1.0


def test_a_live_line_goes_before_a_speculative_one(voice: VoiceService) -> None:
    finished: list[str] = []
    speculative = voice.open("aiden", LONG_LINE, live=False)
    speculative.wait_first()  # its synthesis is under way
    live = voice.open("aiden", LINE)
    for name, stream in (("live", live), ("speculative", speculative)):
        threading.Thread(target=lambda n=name, s=stream: (s.result(), finished.append(n))
                         ).start()
    live.result()
    speculative.result()
    assert finished[0] == "live"


def test_a_live_request_joins_the_speculative_synthesis_of_its_line(
        voice: VoiceService) -> None:
    speculative = voice.open("aiden", LONG_LINE, live=False)
    joined = voice.open("aiden", LONG_LINE)
    assert joined is speculative and joined.live  # one synthesis, now at live priority
    line = joined.result()
    assert not line.cache_hit and voice.speak("aiden", LONG_LINE).cache_hit


def test_a_line_that_cannot_be_synthesized_fails_every_reader(voice: VoiceService) -> None:
    failed = voice.open("aiden", "   ")
    with pytest.raises(VoiceError, match="no audio"):
        failed.wait_first()
    with pytest.raises(VoiceError, match="no audio"):
        failed.result()
    retry = voice.open("aiden", "   ")  # a new attempt, not the failed one kept under way
    assert retry is not failed and not voice.is_cached("aiden", "   ")
    with pytest.raises(VoiceError, match="no audio"):
        retry.result()


class RecordedRuns:
    """Wraps the shared voice's decoder: logs each run as (line, "run" | "cut"); the
    speculative line's first run waits at the door until `door` opens."""

    def __init__(self, voice: VoiceService, monkeypatch: pytest.MonkeyPatch,
                 speculative_text: str) -> None:
        self.log: list[tuple[str, str]] = []
        self.inside, self.door = threading.Event(), threading.Event()
        self.speculative = f"voice-{voice.key('aiden', speculative_text)[:8]}"
        decoder = voice.voices["aiden"].piper.session.decoder
        real_run = decoder.run

        def run(names, feed, options=None):  # noqa: ANN001, ANN202 (onnxruntime's call)
            who = "speculative" if threading.current_thread().name == self.speculative \
                else "live"
            if who == "speculative" and not self.inside.is_set():
                self.inside.set()
                assert self.door.wait(30)
            try:
                result = real_run(names, feed, options)
            except Exception:
                self.log.append((who, "cut"))
                raise
            self.log.append((who, "run"))
            return result

        monkeypatch.setattr(decoder, "run", run)


def test_a_live_line_cuts_a_speculative_step_short(voice: VoiceService,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    runs = RecordedRuns(voice, monkeypatch, LONG_LINE)
    speculative = voice.open("aiden", LONG_LINE, live=False)
    assert runs.inside.wait(30)  # the speculative step is in its decoder run
    live = voice.open("aiden", LINE)
    runs.door.set()
    live.result()
    speculative.result()
    assert runs.log[0] == ("speculative", "cut")
    first_rerun = runs.log.index(("speculative", "run"))
    # The whole live line before the speculative run is made again.
    assert runs.log[1:first_rerun] and set(runs.log[1:first_rerun]) == {("live", "run")}
    assert voice.is_cached("aiden", LONG_LINE) and voice.is_cached("aiden", LINE)


def test_speculation_takes_no_new_step_while_an_event_is_handled(
        voice: VoiceService, monkeypatch: pytest.MonkeyPatch) -> None:
    runs = RecordedRuns(voice, monkeypatch, LONG_LINE)
    speculative = voice.open("aiden", LONG_LINE, live=False)
    assert runs.inside.wait(30)
    with voice.live_event():  # a cache hit's event: no synthesis of its own
        runs.door.set()  # the step under way goes on...
        while not runs.log:
            time.sleep(0.01)
        time.sleep(0.5)  # ...and room for a next step it must not take
        runs.log.append(("event", "handled"))
    line = speculative.result()
    assert runs.log[:3] == [("speculative", "run"), ("event", "handled"),
                            ("speculative", "run")]
    assert line.audio_length_s > 1.0 and voice.is_cached("aiden", LONG_LINE)


async def test_a_prepared_lines_first_hit_is_served_from_memory(voice: VoiceService,
                                                               store: Store) -> None:
    texts = ["Set five. Go.", "Set six. Go."]
    assert await voice.prepare("aiden", texts) == 2
    reads: list[str] = []
    assert store.database._reader is not None
    store.database._reader.conn.set_trace_callback(reads.append)
    first = voice.open("aiden", texts[0]).result()
    assert first.cache_hit and reads == []  # no SQLite read, checksum or decode
    again = voice.open("aiden", texts[0]).result()  # played once: now from the cache
    assert again.cache_hit and any("audio_cache" in sql for sql in reads)
    assert np.array_equal(first.audio, again.audio)
    voice.forget_fresh()  # a user erased: no clip of theirs stays in memory
    reads.clear()
    assert voice.open("aiden", texts[1]).result().cache_hit and reads
    voice.flush()
    assert cached_row(store, voice.key("aiden", texts[0]))["hitCount"] == 2
