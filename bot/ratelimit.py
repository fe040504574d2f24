"""Per-client rate limits for the web chat's forms (GCRA: a burst, then a steady rate).

In memory, per process: enough to stop one client flooding a consultation, not a shared quota
across workers. Keys are the client address, and the visitor id within it.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from aiohttp import web

MAX_KEYS = 100_000


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


def client_address(request: web.Request) -> str:
    """The peer address (a reverse proxy should be configured to pass the real one)."""
    return request.remote or "unknown"
