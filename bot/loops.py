"""Supervised background loops: survive any exception with backoff, and say how they are.

Every background loop in a process (outbox, scheduler, ...) is one :class:`SupervisedLoop`.
A pass that raises is logged, waited out with exponential backoff and tried again, so a short
database outage delays work and never ends it. ``/healthz`` and ``/readyz`` read
:meth:`SupervisedLoop.status` to report a loop that died or is stuck in one pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

log = structlog.get_logger("townhall.loops")

#: One pass of a loop; returns how long to wait (seconds) before the next, unless woken.
Pass = Callable[[], Awaitable[float]]


@dataclass(frozen=True, slots=True)
class LoopStatus:
    name: str
    alive: bool  # the task is running
    stuck: bool  # one pass has been busy for longer than ``stuck_after`` without a beat
    failures: int  # passes failed in a row (0 once one succeeds)

    @property
    def ok(self) -> bool:
        return self.alive and not self.stuck

    def as_dict(self) -> dict[str, object]:
        return {"alive": self.alive, "stuck": self.stuck, "failures": self.failures}


class SupervisedLoop:
    """Runs ``step`` until cancelled; a failed pass is retried after 0.5 s, 1 s, 2 s ... up to
    ``max_backoff``. ``wake()`` cuts a wait short. A long pass calls ``beat()`` now and then
    (e.g. once per delivered message) so that it is not reported as stuck."""

    def __init__(
        self,
        name: str,
        step: Pass,
        *,
        min_backoff: float = 0.5,
        max_backoff: float = 30.0,
        stuck_after: float = 300.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.step = step
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self.stuck_after = stuck_after
        self.monotonic = monotonic
        self.failures = 0
        self._wake = asyncio.Event()
        self._busy_since: float | None = None
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    def beat(self) -> None:
        """Still making progress (inside a long pass)."""
        if self._busy_since is not None:
            self._busy_since = self.monotonic()

    def start(self) -> asyncio.Task[None]:
        self._task = asyncio.create_task(self.run(), name=self.name)
        return self._task

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    def status(self) -> LoopStatus:
        task = self._task
        alive = task is not None and not task.done()
        busy = self._busy_since
        stuck = busy is not None and self.monotonic() - busy > self.stuck_after
        return LoopStatus(self.name, alive, stuck, self.failures)

    async def run(self) -> None:
        while True:
            self._busy_since = self.monotonic()
            try:
                wait = await self.step()
            except Exception as exc:
                self.failures += 1
                wait = min(self.max_backoff, self.min_backoff * 2 ** (self.failures - 1))
                # The traceback once per outage (not every retry); the type every time.
                log.warning(
                    "background pass failed; retrying",
                    loop=self.name,
                    error=type(exc).__name__,
                    failures=self.failures,
                    retry_in=wait,
                    exc_info=self.failures == 1,
                )
            else:
                if self.failures:
                    log.info("background loop recovered", loop=self.name, after=self.failures)
                self.failures = 0
            finally:
                self._busy_since = None
            if self.failures:
                await asyncio.sleep(wait)  # a backoff is not cut short by wake-ups
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=max(0.0, wait))
            self._wake.clear()
