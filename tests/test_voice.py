"""Real Piper synthesis through the SQLite audio cache."""

from pathlib import Path

import numpy as np
import parselmouth
import pytest

from edgecoach.catalog import load_catalog
from edgecoach.contract import VoiceSettings
from edgecoach.errors import VoiceError
from edgecoach.paths import CONFIG_DIR, MODELS_DIR
from edgecoach.settings import CacheSettings
from edgecoach.store import Store
from edgecoach.voice import VoiceService
from edgecoach.voice.manifest import resolve_voice
from edgecoach.voice.synthesizer import PersonaVoice

LINE = "Five reps at eighty kilos. Rest now."


@pytest.fixture(scope="module")
def shared_voices() -> dict[str, PersonaVoice]:
    catalog = load_catalog(CONFIG_DIR)
    with _memory_store() as store:
        service = VoiceService.load(catalog.personas, store.database, CacheSettings(),
                                    MODELS_DIR)
    return service.voices


class _memory_store:
    def __enter__(self) -> Store:
        self.store = Store.open(":memory:")
        return self.store

    def __exit__(self, *exc: object) -> None:
        self.store.close()


@pytest.fixture
def voice(shared_voices: dict[str, PersonaVoice], store: Store) -> VoiceService:
    from edgecoach.voice.cache import AudioCache

    return VoiceService(shared_voices, AudioCache(store.database, 200 * 2**20, 86400))


def median_f0(samples: np.ndarray, sample_rate: int) -> float:
    pitch = parselmouth.Sound(samples.astype(np.float64) / 32768, sample_rate).to_pitch(
        pitch_floor=60, pitch_ceiling=400).selected_array["frequency"]
    return float(np.median(pitch[pitch > 0]))


def test_a_miss_synthesizes_and_a_hit_returns_the_same_audio(voice: VoiceService) -> None:
    first = voice.speak("aiden", LINE)
    assert not first.cache_hit and 1.0 < first.audio_length_s < 5.0
    second = voice.speak("aiden", LINE)
    assert second.cache_hit and second.cache_key == first.cache_key
    assert np.array_equal(first.audio, second.audio)


def test_keys_differ_by_persona_text_and_settings(voice: VoiceService) -> None:
    keys = {voice.key("alice", LINE), voice.key("aiden", LINE), voice.key("aiden", LINE + "!")}
    assert len(keys) == 3


def test_the_personas_sound_like_two_speakers(voice: VoiceService) -> None:
    alice, aiden = voice.speak("alice", LINE), voice.speak("aiden", LINE)
    alice_f0 = median_f0(alice.audio, alice.sample_rate)
    aiden_f0 = median_f0(aiden.audio, aiden.sample_rate)
    print(f"median F0: alice {alice_f0:.0f} Hz, aiden {aiden_f0:.0f} Hz")
    assert 170 <= alice_f0 <= 225
    assert alice_f0 >= 1.15 * aiden_f0


def test_a_corrupt_blob_is_dropped_and_resynthesized(voice: VoiceService,
                                                     store: Store) -> None:
    first = voice.speak("aiden", LINE)
    with store.database.transaction() as db:
        blob = bytearray(db.execute("select audio from audio_cache where cacheKey = ?",
                                    [first.cache_key]).fetchone()[0])
        blob[100] ^= 0xFF
        db.execute("update audio_cache set audio = ? where cacheKey = ?",
                   [bytes(blob), first.cache_key])
    again = voice.speak("aiden", LINE)
    # Piper samples noise, so a new synthesis is similar, not identical.
    assert not again.cache_hit and abs(again.audio_length_s - first.audio_length_s) < 0.5
    assert voice.speak("aiden", LINE).cache_hit


def test_eviction_keeps_the_budget_dropping_least_recently_used(voice: VoiceService,
                                                                clock) -> None:
    lines = ["Go.", "Lock in.", "Again."]
    for line in lines:
        voice.speak("aiden", line)
        clock.advance(10)
    voice.speak("aiden", "Go.")  # now the most recently used
    sizes = voice.cache.stats().bytes
    voice.cache.budget_bytes = sizes // 2
    result = voice.evict()
    assert result["evicted"] >= 1 and voice.cache.stats().bytes <= sizes // 2
    assert voice.is_cached("aiden", "Go.") and not voice.is_cached("aiden", "Lock in.")


def test_expired_clips_are_not_served(voice: VoiceService, clock) -> None:
    voice.speak("aiden", "Go.")
    clock.advance(86400 + 1)
    assert not voice.is_cached("aiden", "Go.")
    assert voice.evict()["expired"] == 1


async def test_speculative_synthesis_prepares_and_can_be_cancelled(voice: VoiceService) -> None:
    assert await voice.prepare("aiden", ["Set two. Go.", "Set two done."]) == 2
    assert voice.is_cached("aiden", "Set two. Go.") and voice.is_cached("aiden", "Set two done.")
    assert await voice.prepare("aiden", ["Set two. Go."]) == 0


def test_a_missing_voice_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(VoiceError, match="nowhere.onnx"):
        resolve_voice(str(tmp_path / "nowhere.onnx"), MODELS_DIR)


def test_a_corrupt_voice_file_names_the_file(tmp_path: Path) -> None:
    from edgecoach.voice.synthesizer import load_piper

    model = tmp_path / "broken.onnx"
    model.write_bytes(b"not an onnx model" * 100)
    model.with_name("broken.onnx.json").write_text("{}")
    with pytest.raises(VoiceError, match="broken.onnx"):
        load_piper(resolve_voice(str(model), MODELS_DIR))


def test_a_voice_that_does_not_match_its_manifest_is_refused(tmp_path: Path) -> None:
    (tmp_path / "voices.toml").write_text(
        (MODELS_DIR / "voices.toml").read_text().replace("sha256 = \"", "sha256 = \"00"))
    with pytest.raises(VoiceError, match="does not match the manifest"):
        resolve_voice("en_US-joe-medium", tmp_path)


def test_voice_settings_reject_nonsense() -> None:
    with pytest.raises(ValueError):
        VoiceSettings(length_scale=0)
