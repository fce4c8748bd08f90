"""Audio output: sinks (sound device, WAV folder, null) and the line player."""

from edgecoach.audio.player import Player
from edgecoach.audio.sinks import (
    AudioSink,
    NullSink,
    SoundDeviceSink,
    TeeSink,
    WavDirSink,
    make_output,
    output_device_problem,
)

__all__ = ["AudioSink", "NullSink", "Player", "SoundDeviceSink", "TeeSink", "WavDirSink",
           "make_output", "output_device_problem"]
