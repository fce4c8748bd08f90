"""Reconnect/backoff: one small class reused by BLE, BlueZ and upstream sync."""

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

INITIAL_DELAY_SECONDS = 1.0
MAX_DELAY_SECONDS = 300.0
MULTIPLIER = 2.0
# Full jitter keeps many devices that lost the network together from retrying together.
JITTER = 0.5


@dataclass
class Backoff:
    """Exponential backoff with jitter; `reset()` after a success.

    `next_delay()` grows from `initial` by `multiplier` up to `maximum`, each value spread
    by +-`jitter` of itself. A server's Retry-After wins when it asks for longer.
    """

    initial: float = INITIAL_DELAY_SECONDS
    maximum: float = MAX_DELAY_SECONDS
    multiplier: float = MULTIPLIER
    jitter: float = JITTER
    rng: random.Random = field(default_factory=random.Random)
    attempts: int = 0

    def next_delay(self, retry_after: float | None = None) -> float:
        base = min(self.maximum, self.initial * self.multiplier**self.attempts)
        self.attempts += 1
        delay = base * (1 + self.jitter * (2 * self.rng.random() - 1))
        if retry_after is not None:
            delay = max(delay, retry_after)
        return min(delay, max(self.maximum, retry_after or 0))

    def bounds(self, attempt: int) -> tuple[float, float]:
        """The lowest and highest delay the `attempt`-th retry may take (for tests)."""
        base = min(self.maximum, self.initial * self.multiplier**attempt)
        return base * (1 - self.jitter), base * (1 + self.jitter)

    def reset(self) -> None:
        self.attempts = 0


Sleep = Callable[[float], Awaitable[None]]


async def wait(backoff: Backoff, sleep: Sleep = asyncio.sleep,
               retry_after: float | None = None) -> float:
    """Sleep for the next delay (an injectable sleep makes tests use fake time)."""
    delay = backoff.next_delay(retry_after)
    await sleep(delay)
    return delay
