"""A queue of lines played in order, off the event loop.

A line of higher trigger priority drops queued lines of lower priority that have not
started (a stale set cue must not delay the workout summary). `stop_now` cuts the line
playing and empties the queue (earbuds disconnected, or the athlete pressed skip).
"""

import asyncio
import logging
from dataclasses import dataclass

import numpy as np

from edgecoach.audio.sinks import AudioSink

log = logging.getLogger(__name__)


@dataclass
class QueuedLine:
    samples: np.ndarray
    sample_rate: int
    priority: int
    label: str


class Player:
    def __init__(self, sink: AudioSink) -> None:
        self.sink = sink
        self._queue: list[QueuedLine] = []
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self.playing: QueuedLine | None = None
        self.played: list[str] = []
        self.dropped: list[str] = []

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    def enqueue(self, line: object, priority: int, label: str) -> None:
        """Queue a SpokenLine (anything with `audio` and `sample_rate`)."""
        kept = [queued for queued in self._queue if queued.priority >= priority]
        self.dropped.extend(queued.label for queued in self._queue if queued.priority < priority)
        queued = QueuedLine(line.audio, line.sample_rate, priority, label)  # type: ignore[attr-defined]
        self._queue = [*kept, queued]
        self._idle.clear()
        self._ready.set()

    @property
    def queued(self) -> int:
        return len(self._queue)

    def stop_now(self) -> None:
        self.dropped.extend(queued.label for queued in self._queue)
        self._queue.clear()
        if self.playing is not None:
            self.sink.stop()

    async def _run(self) -> None:
        while True:
            await self._ready.wait()
            if not self._queue:
                self._ready.clear()
                self._idle.set()
                continue
            line = self._queue.pop(0)
            self.playing = line
            try:
                await asyncio.to_thread(self.sink.play, line.samples, line.sample_rate,
                                        line.label)
                self.played.append(line.label)
            except Exception as error:  # a device that vanished must not stop coaching
                log.warning("playback of %s failed: %s", line.label, error)
            finally:
                self.playing = None

    async def drain(self) -> None:
        """Wait until everything queued has played."""
        await self._idle.wait()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
