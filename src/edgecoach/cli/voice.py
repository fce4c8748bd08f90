"""`edgecoach say`: speak (or write) one line through the audio cache."""

import logging
import time
from pathlib import Path

import typer

from edgecoach.audio import WavDirSink, make_output
from edgecoach.catalog import load_catalog
from edgecoach.cli import app
from edgecoach.cli.common import open_store, output_file, print_json, settings
from edgecoach.contract.vocabulary import PersonaId
from edgecoach.errors import ValidationFailed
from edgecoach.voice import VoiceService


@app.command()
def say(
    text: str = typer.Option(..., "--text", help="The line to speak."),
    persona: PersonaId = typer.Option("alice", "--persona", help="alice or aiden."),
    out: Path | None = typer.Option(None, "--out", help="Write a WAV file instead of playing."),
) -> None:
    """Speak one line in a persona's voice (cached); prints cacheHit, ttsLatency, audioLength."""
    if not text.strip():
        raise ValidationFailed("--text", "must not be empty")
    config = settings()
    catalog = load_catalog(config.config_dir)
    longest = max(trigger.max_response_length for trigger in catalog.triggers.values())
    if len(text) > longest:
        raise ValidationFailed("--text", f"{len(text)} characters; the coach's longest line "
                                         f"is {longest}")
    if out is not None:
        output_file(out, "--out")
    # A failed synthesis is logged for the daemon, where nobody may wait for the line;
    # here it is raised to this command, which says it once.
    logging.getLogger("edgecoach.voice.service").setLevel(logging.CRITICAL)
    with open_store(config) as store:
        started = time.perf_counter()
        # Only the persona asked for: each voice is calibrated at load (a synthesis).
        voice = VoiceService.load({persona: catalog.personas[persona]}, store.database,
                                  config.cache, config.models_dir, config.voice_threads)
        load_ms = (time.perf_counter() - started) * 1000
        stream = voice.open(persona, text)
        if out is not None:
            line = stream.result()
            WavDirSink.write(out, line.audio, line.sample_rate)
            output = str(out)
        else:
            sink = make_output(config.audio)
            sink.play(stream, "say")  # plays as the synthesis goes
            line = stream.result()
            output = sink.name
        voice.flush()
    print_json({"persona": persona, "cacheHit": line.cache_hit,
                "ttsLatency": round(line.tts_latency_ms, 2),
                "audioLength": round(line.audio_length_s, 3), "voiceLoad": round(load_ms, 1),
                "out": output})
