"""settings.voice_threads reaches the voice's ONNX Runtime sessions (qemu, --pi-class)."""

from pathlib import Path

import numpy as np
import pytest

from edgecoach.errors import ConfigError
from edgecoach.paths import MODELS_DIR
from edgecoach.settings import load_settings
from edgecoach.voice.manifest import resolve_voice
from edgecoach.voice.vits import SplitVitsSession, load_vits_session


def test_one_thread_sessions_run_with_one_thread_and_speak_the_same(tmp_path: Path) -> None:
    files = resolve_voice("en_US-joe-medium", MODELS_DIR)
    single = load_vits_session(files.model, files.sha256, tmp_path, threads=1)
    default = load_vits_session(files.model, files.sha256, tmp_path)
    assert isinstance(single, SplitVitsSession) and isinstance(default, SplitVitsSession)
    assert single.flow is not None
    for session in (single.encoder, single.flow, single.decoder):
        options = session.get_session_options()
        assert options.intra_op_num_threads == 1 and options.inter_op_num_threads == 1
        assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert default.decoder.get_session_options().intra_op_num_threads == 0  # one per core
    latent = np.random.default_rng(1).standard_normal((1, 192, 40)).astype(np.float32)
    np.testing.assert_allclose(single.decode(latent, 0, 40), default.decode(latent, 0, 40),
                               atol=1e-4)


def test_voice_threads_come_from_the_environment_and_nonsense_is_refused(monkeypatch) -> None:
    monkeypatch.setenv("EDGECOACH_VOICE_THREADS", "1")
    assert load_settings().voice_threads == 1
    for bad in ("0", "-2", "many", "1e9"):
        monkeypatch.setenv("EDGECOACH_VOICE_THREADS", bad)
        with pytest.raises(ConfigError, match="voice_threads"):
            load_settings()
