"""Closes items at their deadline, including deadlines that passed while the bot was down, and
queues consultation reminders before they close."""

from __future__ import annotations

from collections.abc import Callable

import structlog

from bot.context import Clock, utc_now
from bot.loops import SupervisedLoop
from services import consultation_reminders
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
        reminder_hours: float = 48.0,
        default_language: str = "en",
    ) -> None:
        self.db = db
        self.interval = interval
        self.clock = clock
        self.on_change = on_change
        self.reminder_hours = reminder_hours
        self.default_language = default_language
        self.loop = SupervisedLoop("scheduler", self._pass)

    def poke(self) -> None:
        """Look again now (e.g. after an item with a deadline was created)."""
        self.loop.wake()

    async def run_once(self) -> list[str]:
        async with self.db.transaction() as session:
            closed = await close_due_items(session, self.clock())
        async with self.db.transaction() as session:
            reminded = await consultation_reminders.send_due(
                session, self.clock(), self.reminder_hours, self.default_language
            )
        if closed:
            log.info("closed at deadline", items=closed)
        if reminded:
            log.info("consultation reminders queued", count=reminded)
        if closed or reminded:
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
            reminder = await consultation_reminders.next_due(session, self.reminder_hours)
        # A reminder window already open was handled by this pass (or has no one to remind).
        if reminder is not None and reminder > self.clock():
            nearest = reminder if nearest is None else min(nearest, reminder)
        if nearest is None:
            return self.interval
        return max(0.05, min(self.interval, (nearest - self.clock()).total_seconds()))
