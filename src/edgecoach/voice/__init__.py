"""Persona voices with Piper, and the SQLite audio cache."""

from edgecoach.voice.cache import AudioCache
from edgecoach.voice.service import SpokenLine, VoiceService
from edgecoach.voice.synthesizer import Audio, PersonaVoice

__all__ = ["Audio", "AudioCache", "PersonaVoice", "SpokenLine", "VoiceService"]
