"""Closes items at their deadline, including deadlines that passed while the bot was down."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import structlog
from sqlalchemy import func, select

from bot.context import Clock, utc_now
from services.lifecycle import close_due_items
from storage.db import Database
from storage.models import Item

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
        self._poke = asyncio.Event()

    def poke(self) -> None:
        """Look again now (e.g. after an item with a deadline was created)."""
        self._poke.set()

    async def run_once(self) -> list[str]:
        async with self.db.transaction() as session:
            closed = await close_due_items(session, self.clock())
        if closed:
            log.info("closed at deadline", items=closed)
            self.on_change()
        return closed

    async def run(self) -> None:
        while True:
            try:
                await self.run_once()
                wait = await self._until_next_deadline()
            except Exception:
                log.exception("scheduler pass failed")
                wait = self.interval
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._poke.wait(), timeout=wait)
            self._poke.clear()

    async def _until_next_deadline(self) -> float:
        async with self.db.transaction() as session:
            query = select(func.min(Item.closes_at)).where(
                Item.status == "open", Item.closes_at.is_not(None)
            )
            nearest = (await session.execute(query)).scalar_one_or_none()
        if nearest is None:
            return self.interval
        return max(0.05, min(self.interval, (nearest - self.clock()).total_seconds()))
