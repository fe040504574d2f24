"""The grouped write path: clicks that arrive together share one transaction.

Each click waits on a future; one writer takes whatever is waiting, hands it to a batch handler
that writes it with set-based statements in ONE transaction, and resolves the futures only after
the commit, so every acknowledgement stands for something durable. Batches form by themselves:
the next one starts as soon as the previous commit returned (no timer), so a click alone waits
for one transaction and a burst shares them.

The batch handler answers each event with an :class:`Outcome`, or ``None`` for an event it
cannot decide simply (e.g. a first vote that must wait for consent, a closed item, a bad
option): those go through the ordinary per-event :class:`Dispatcher` after the batch committed,
in arrival order, so their behaviour and replies are exactly the ordinary ones.

A database outage fails the whole batch; it is retried once, and if it fails again every click
in it gets the dispatcher's outage treatment (the exception propagates, the adapter answers
non-2xx, nothing was recorded, the platform redelivers). Any other error falls back to the
dispatcher event by event.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from bot.adapter import Outcome
from bot.config import Settings
from bot.context import Clock, Translator
from bot.dispatch import Dispatcher, database_unavailable
from bot.events import Event
from storage.db import Database, written

log = structlog.get_logger("townhall.batcher")


@dataclass(frozen=True, slots=True)
class Batch:
    """What a batch handler gets: the events in arrival order and the open transaction."""

    events: Sequence[Event]
    session: AsyncSession
    settings: Settings
    clock: Clock
    translator: Translator
    #: What the handler keeps between batches in this process (e.g. which card refreshes it
    #: already has pending); change it only from :attr:`after_commit`.
    memory: dict[str, Any] = field(default_factory=dict)
    #: Called once the batch's transaction committed (not when it failed).
    after_commit: list[Callable[[], None]] = field(default_factory=list)


#: Writes a batch inside its transaction; one Outcome per event, None to use the dispatcher.
BatchHandler = Callable[[Batch], Awaitable[list[Outcome | None]]]

_Waiting = tuple[Event, "asyncio.Future[Outcome]"]


class Batcher:
    """One single writer for the events one batch handler takes (e.g. vote clicks)."""

    def __init__(
        self,
        db: Database,
        dispatcher: Dispatcher,
        handler: BatchHandler,
        takes: Callable[[Event], bool],
        *,
        max_batch: int = 500,
        on_commit: Callable[[frozenset[str]], None] = lambda wrote: None,
        on_batch: Callable[[int, float], None] = lambda size, seconds: None,
        on_commit_seconds: Callable[[float], None] = lambda seconds: None,
    ) -> None:
        self.db = db
        self.dispatcher = dispatcher
        self.handler = handler
        self.takes = takes
        self.max_batch = max_batch
        self.on_commit = on_commit
        self.on_batch = on_batch
        self.on_commit_seconds = on_commit_seconds
        self._waiting: list[_Waiting] = []
        self._ready = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._fallbacks: set[asyncio.Task[None]] = set()
        self._closing = False
        self._memory: dict[str, Any] = {}

    async def submit(self, event: Event) -> Outcome:
        """Queue the event; returns once its effect is committed (or raises like dispatch)."""
        if self._closing:
            return await self.dispatcher.one(event)
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._waiting.append((event, future))
        self._ready.set()
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._run(), name="vote-batcher")
        return await future

    async def stop(self, grace: float = 10.0) -> None:
        """Write what is waiting (bounded), then stop; later clicks use the dispatcher."""
        self._closing = True
        self._ready.set()
        if self._writer is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._writer), grace)
            except TimeoutError:
                self._writer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._writer
        for _, future in self._waiting:
            if not future.done():
                future.set_exception(RuntimeError("shutting down: not recorded"))
        self._waiting.clear()
        if self._fallbacks:
            await asyncio.wait(self._fallbacks, timeout=grace)

    async def _run(self) -> None:
        while True:
            if not self._waiting:
                if self._closing:
                    return
                self._ready.clear()
                await self._ready.wait()
                continue
            batch = self._waiting[: self.max_batch]
            del self._waiting[: self.max_batch]
            try:
                await self._write(batch)
            except BaseException as exc:  # resolve every waiter whatever happened
                for _, future in batch:
                    if not future.done():
                        future.set_exception(
                            exc if isinstance(exc, Exception) else RuntimeError("stopped")
                        )
                if not isinstance(exc, Exception):
                    raise

    async def _write(self, batch: list[_Waiting]) -> None:
        events = [event for event, _ in batch]
        started = time.perf_counter()
        outcomes: list[Outcome | None] | None = None
        for attempt in (1, 2):
            try:
                outcomes, wrote = await self._transaction(events)
                break
            except Exception as exc:
                if not database_unavailable(exc):
                    log.exception("vote batch failed; dispatching its events one by one")
                    break
                if attempt == 2:
                    log.warning(
                        "vote batch not recorded", size=len(events), error=type(exc).__name__
                    )
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    return
                log.info("vote batch retried", size=len(events), error=type(exc).__name__)
        if outcomes is not None:
            self.on_commit(wrote)
            self.on_batch(len(events), time.perf_counter() - started)
            log.debug(
                "vote batch", size=len(events), ms=round((time.perf_counter() - started) * 1000, 1)
            )
        rest: list[_Waiting] = []
        for (event, future), outcome in zip(batch, outcomes or [None] * len(batch), strict=True):
            if outcome is None:
                rest.append((event, future))
            elif not future.done():
                future.set_result(outcome)
        if rest:
            task = asyncio.create_task(self._dispatch_in_order(rest))
            self._fallbacks.add(task)
            task.add_done_callback(self._fallbacks.discard)

    async def _transaction(
        self, events: list[Event]
    ) -> tuple[list[Outcome | None], frozenset[str]]:
        d = self.dispatcher
        # One writer waits for everyone: a lock held elsewhere must not stall every click
        # indefinitely (the per-event path is bounded the same way by the pool's timeout).
        after: list[Callable[[], None]] = []
        async with self.db.transaction(lock_wait=self.db.pool_timeout) as session:
            batch = Batch(events, session, d.settings, d.clock, d.translator, self._memory, after)
            outcomes = await self.handler(batch)
            wrote = written(session)
            committing = time.perf_counter()
        self.on_commit_seconds(time.perf_counter() - committing)
        for call in after:
            call()
        return outcomes, wrote

    async def _dispatch_in_order(self, rest: list[_Waiting]) -> None:
        for event, future in rest:
            try:
                outcome = await self.dispatcher.one(event)
            except Exception as exc:
                if not future.done():
                    future.set_exception(exc)
            else:
                if not future.done():
                    future.set_result(outcome)
