"""Per-client rate limits for the web chat's forms (GCRA: a burst, then a steady rate).

In memory, per process (:class:`RateLimiter`): enough for one worker. Several workers share one
quota (``TOWNHALL_SHARED_STATE``): :class:`DatabaseRateLimiter` keeps the same GCRA in
PostgreSQL, or :class:`SharedRateLimiter` counts it in Redis (the ``limits`` library's moving
window), so a client meets one quota whichever worker answers. Keys are the client address,
and the visitor id within it (hashed before they leave the process).
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

from storage.db import Database
from storage.shared import RateLimits

MAX_KEYS = 100_000
#: How often one process deletes the database's expired rate-limit rows (seconds).
PRUNE_EVERY = 60.0


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


class DatabaseRateLimiter:
    """:class:`RateLimiter`'s limit (same burst, period and waits) kept in the database, so
    every worker counts against one quota: one atomic upsert per allowed hit, on the
    database's clock. ``clock`` (epoch seconds) replaces that clock in tests."""

    def __init__(
        self,
        db: Database,
        burst: int,
        period: float,
        *,
        prefix: str,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.db = db
        self.burst = burst
        self.period = period
        self.prefix = prefix
        self.clock = clock
        self._interval = period / burst
        self._pruned = 0.0

    def key(self, key: str) -> str:
        return f"{self.prefix}:{hashlib.sha256(key.encode()).hexdigest()[:32]}"

    async def check(self, key: str) -> float | None:
        stored = self.key(key)
        slack = self.period - self._interval
        now = self.clock() if self.clock is not None else None
        async with self.db.statement() as session:
            allowed = await RateLimits(session).hit(stored, self._interval, slack, now)
        if allowed:
            await self._prune()
            return None
        async with self.db.statement() as session:
            wait = await RateLimits(session).wait([(stored, slack)], now)
        return max(0.001, wait)

    async def _prune(self) -> None:
        """Delete expired rows, at most once per :data:`PRUNE_EVERY` in this process."""
        if time.monotonic() - self._pruned < PRUNE_EVERY:
            return
        self._pruned = time.monotonic()
        async with self.db.statement() as session:
            await RateLimits(session).prune(self.clock() if self.clock is not None else None)


def client_address(request: web.Request) -> str:
    """The peer address (a reverse proxy should be configured to pass the real one)."""
    return request.remote or "unknown"
