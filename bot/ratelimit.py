"""Per-client rate limits for the web chat's forms (GCRA: a burst, then a steady rate).

In memory, per process (:class:`RateLimiter`): enough for one worker. With several workers set
``TOWNHALL_REDIS_URL``: :class:`SharedRateLimiter` counts the same limit in Redis (the
``limits`` library's moving window), so a client meets one quota whichever worker answers.
Keys are the client address, and the visitor id within it (hashed before they reach Redis).
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from aiohttp import web
from limits import RateLimitItemPerSecond
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter

MAX_KEYS = 100_000


class Limit(Protocol):
    async def check(self, key: str) -> float | None:
        """Count a hit; None when allowed, else the seconds to wait before the next one."""
        ...


class RateLimiter:
    """At most ``burst`` hits at once, refilling to ``burst`` over ``period`` seconds."""

    def __init__(
        self, burst: int, period: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.burst = burst
        self.period = period
        self.clock = clock
        self._interval = period / burst
        self._tat: OrderedDict[str, float] = OrderedDict()  # theoretical arrival times

    def hit(self, key: str) -> float | None:
        """Count a hit; None when allowed, else the seconds to wait before the next one."""
        now = self.clock()
        tat = max(self._tat.pop(key, now), now)
        wait = tat - now - (self.period - self._interval)
        if wait > 0:
            self._tat[key] = tat
            return wait
        self._tat[key] = tat + self._interval
        while len(self._tat) > MAX_KEYS:
            self._tat.popitem(last=False)  # least recently seen first
        return None

    async def check(self, key: str) -> float | None:
        return self.hit(key)


class SharedRateLimiter:
    """At most ``burst`` hits within any ``period`` seconds, counted in Redis for every worker."""

    def __init__(self, burst: int, period: float, redis_url: str, *, prefix: str) -> None:
        self.item = RateLimitItemPerSecond(burst, max(1, round(period)))
        storage = RedisStorage(redis_url, implementation="redispy", key_prefix=prefix)
        self.strategy = MovingWindowRateLimiter(storage)

    async def check(self, key: str) -> float | None:
        hashed = hashlib.sha256(key.encode()).hexdigest()[:32]  # no addresses in Redis
        if await self.strategy.hit(self.item, hashed):
            return None
        stats = await self.strategy.get_window_stats(self.item, hashed)
        return max(0.001, stats.reset_time - time.time())


def client_address(request: web.Request) -> str:
    """The peer address (a reverse proxy should be configured to pass the real one)."""
    return request.remote or "unknown"
