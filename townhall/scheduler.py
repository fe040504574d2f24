"""Closes items at their deadline, including deadlines that passed while the bot was down."""

from __future__ import annotations

from collections.abc import Callable

import structlog

from bot.context import Clock, utc_now
from bot.loops import SupervisedLoop
from services.lifecycle import close_due_items
from storage.db import Database
from storage.items import ItemRepository

log = structlog.get_logger("townhall.scheduler")


class Scheduler:
    def __init__(
        self,
        db: Database,
        *,
        interval: float,
        clock: Clock = utc_now,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.db = db
        self.interval = interval
        self.clock = clock
        self.on_change = on_change
        self.loop = SupervisedLoop("scheduler", self._pass)

    def poke(self) -> None:
        """Look again now (e.g. after an item with a deadline was created)."""
        self.loop.wake()

    async def run_once(self) -> list[str]:
        async with self.db.transaction() as session:
            closed = await close_due_items(session, self.clock())
        if closed:
            log.info("closed at deadline", items=closed)
            self.on_change()
        return closed

    async def run(self) -> None:
        """Close items until cancelled; a failed pass is retried with backoff."""
        await self.loop.run()

    async def _pass(self) -> float:
        await self.run_once()
        return await self._until_next_deadline()

    async def _until_next_deadline(self) -> float:
        async with self.db.transaction() as session:
            nearest = await ItemRepository(session).next_deadline()
        if nearest is None:
            return self.interval
        return max(0.05, min(self.interval, (nearest - self.clock()).total_seconds()))
