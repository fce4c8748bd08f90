"""Persona voices with Piper, and the SQLite audio cache."""

from edgecoach.voice.cache import AudioCache
from edgecoach.voice.line import LineStream, SpokenLine
from edgecoach.voice.service import VoiceService
from edgecoach.voice.synthesizer import Audio, PersonaVoice

__all__ = ["Audio", "AudioCache", "LineStream", "PersonaVoice", "SpokenLine", "VoiceService"]
