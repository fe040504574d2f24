"""Counting failures per key in a sliding window (in memory, per process).

Used to slow password guessing on the dashboard's sign-in form: after ``limit`` failures for a
client address or an email address within ``window`` seconds, further attempts are refused.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable

MAX_FAILURES = 5
WINDOW = 15 * 60.0
MAX_KEYS = 50_000


class FailureLimiter:
    """At most ``limit`` failures per key within ``window`` seconds."""

    def __init__(
        self,
        limit: int = MAX_FAILURES,
        window: float = WINDOW,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, key: str) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        cutoff = self.clock() - self.window
        while times and times[0] <= cutoff:
            times.popleft()
        return times

    def blocked(self, *keys: str) -> bool:
        return any(len(self._recent(key)) >= self.limit for key in keys)

    def fail(self, *keys: str) -> None:
        for key in keys:
            times = self._recent(key)
            times.append(self.clock())
            self._failures[key] = times
            self._failures.move_to_end(key)
        while len(self._failures) > MAX_KEYS:
            self._failures.popitem(last=False)

    def clear(self, key: str) -> None:
        self._failures.pop(key, None)
