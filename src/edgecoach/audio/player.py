"""A queue of lines played in order, off the event loop.

A line of higher trigger priority drops the queued lines of lower priority that have not
started (a stale set cue must not delay the workout summary); the line playing is never
cut by it. `stop_now` cuts the line playing within one audio block and empties the queue
(earbuds disconnected, or the athlete pressed skip).
"""

import asyncio
import logging
import threading
from collections import deque
from dataclasses import dataclass, field

from edgecoach.audio.sinks import AudioSink, Playable

log = logging.getLogger(__name__)

HISTORY = 100  # labels kept of played and dropped lines, for status and tests


@dataclass
class QueuedLine:
    line: Playable
    priority: int
    label: str
    stop: threading.Event = field(default_factory=threading.Event)


class Player:
    """Plays queued lines one at a time through a sink, in a worker thread."""

    def __init__(self, sink: AudioSink) -> None:
        self.sink = sink
        self._queue: list[QueuedLine] = []
        self._ready = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self.playing: QueuedLine | None = None
        self.played: deque[str] = deque(maxlen=HISTORY)
        self.dropped: deque[str] = deque(maxlen=HISTORY)

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="player")

    def enqueue(self, line: Playable, priority: int, label: str) -> None:
        """Queue a line after those of equal or higher priority; lower ones are dropped.

        A line still being synthesized plays as its pieces come."""
        kept = [queued for queued in self._queue if queued.priority >= priority]
        self.dropped.extend(queued.label for queued in self._queue if queued.priority < priority)
        self._queue = [*kept, QueuedLine(line, priority, label)]
        self._idle.clear()
        self._ready.set()

    @property
    def queued(self) -> int:
        return len(self._queue)

    def stop_now(self) -> None:
        """Cut the line playing at once and drop everything queued."""
        self.dropped.extend(queued.label for queued in self._queue)
        self._queue.clear()
        if self.playing is not None:
            self.playing.stop.set()

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
                await asyncio.to_thread(self.sink.play, line.line, line.label, line.stop)
                (self.dropped if line.stop.is_set() else self.played).append(line.label)
            except Exception as error:  # a device that vanished must not stop coaching
                log.warning("playback of %s failed: %s", line.label, error)
            finally:
                self.playing = None

    async def drain(self) -> None:
        """Wait until everything queued has played (the player must be started)."""
        await self._idle.wait()

    async def close(self) -> None:
        """Stop the player task; a line already playing ends in its thread (call
        `stop_now()` first to cut it)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
