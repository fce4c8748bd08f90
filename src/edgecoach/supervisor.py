"""The daemon's tasks, supervised: none ends without a line (and its traceback) in the log.

A restartable task (a source, the upstream sync) that raises is logged and started again
after the shared `Backoff`; one that returns is done (a source with nothing to watch).
An essential task (the API, the consumer) that ends for any reason while the daemon is
not stopping records the failure and sets `stop`: the daemon then exits non-zero, so
systemd restarts it, instead of answering 202 for events nobody will coach.
"""

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from edgecoach.resilience import Backoff, Sleep

log = logging.getLogger(__name__)

# A restartable task that ran this long before failing starts again without delay growth.
STABLE_AFTER_SECONDS = 60.0

TaskFactory = Callable[[], Coroutine[Any, Any, None]]


class Supervisor:
    def __init__(self, stop: asyncio.Event, sleep: Sleep = asyncio.sleep,
                 backoff: Callable[[], Backoff] = Backoff) -> None:
        self.stop = stop
        self.failure: str | None = None  # the first essential task that ended, and how
        self._sleep = sleep
        self._backoff = backoff
        self._tasks: list[asyncio.Task] = []

    def essential(self, name: str, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task:
        """Run a task the daemon cannot work without; its end stops the daemon."""
        task = asyncio.create_task(coroutine, name=name)
        task.add_done_callback(self._essential_ended)
        self._tasks.append(task)
        return task

    def restartable(self, name: str, factory: TaskFactory) -> asyncio.Task:
        """Run `factory()` again (after a backoff) each time it raises."""
        task = asyncio.create_task(self._keep_running(name, factory), name=name)
        self._tasks.append(task)
        return task

    async def cancel(self, *keep: asyncio.Task) -> None:
        """Cancel every task but `keep` and wait for them to end."""
        tasks = [task for task in self._tasks if task not in keep]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _essential_ended(self, task: asyncio.Task) -> None:
        name = task.get_name()
        if task.cancelled():
            if self.stop.is_set():
                return  # the daemon is stopping: that is how it ends
            reason = "was cancelled"
        elif (error := task.exception()) is not None:
            log.error("%s failed; stopping the daemon", name, exc_info=error)
            reason = f"failed: {type(error).__name__}: {error}"
        elif self.stop.is_set():
            return
        else:
            reason = "ended"
        if self.failure is None:
            self.failure = f"{name} {reason}"
            log.error("%s %s: the daemon stops (exit 1) for its service manager to restart it",
                      name, reason)
        self.stop.set()

    async def _keep_running(self, name: str, factory: TaskFactory) -> None:
        backoff = self._backoff()
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            try:
                await factory()
                log.debug("%s finished", name)
                return
            except Exception:
                log.exception("%s failed; restarting it", name)
            if loop.time() - started >= STABLE_AFTER_SECONDS:
                backoff.reset()
            delay = backoff.next_delay()
            log.info("%s restarts in %.1f s", name, delay)
            await self._pause(delay)
            if self.stop.is_set():
                return  # a stopping daemon restarts nothing

    async def _pause(self, delay: float) -> None:
        """Sleep `delay`, or less when the daemon stops meanwhile."""
        waiter = asyncio.ensure_future(self.stop.wait())
        sleeper = asyncio.ensure_future(self._sleep(delay))
        try:
            await asyncio.wait({waiter, sleeper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            sleeper.cancel()
