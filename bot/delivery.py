"""The outbox worker: delivers durable messages through the adapters, with retries."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from bot.adapter import Adapter, ask_channel_name
from bot.context import Clock, utc_now
from bot.errors import DeliveryError
from bot.events import MessageRef, Target
from bot.views import View, view_from_dict
from storage.db import Database
from storage.items import PublicationRepository
from storage.models import OutboxMessage, Publication
from storage.outbox import OutboxRepository, backoff

log = structlog.get_logger("townhall.delivery")

#: Renders a publication's current card (for refreshes); None when there is nothing to show.
Renderer = Callable[[AsyncSession, Publication], Awaitable[View | None]]

MAX_ATTEMPTS = 12
LEASE = timedelta(seconds=60)


class Deliverer:
    """Claims due outbox rows (row locks on PostgreSQL, so several workers can share one
    database), delivers them, and records the outcome. A claimed ``send`` is leased: if this
    process dies mid-delivery the row becomes due again after the lease. A ``refresh`` is
    consumed at claim time so that votes arriving meanwhile queue a fresh one."""

    def __init__(
        self,
        db: Database,
        adapters: Mapping[str, Adapter],
        render: Renderer,
        *,
        clock: Clock = utc_now,
        idle_poll: float = 1.0,
    ) -> None:
        self.db = db
        self.adapters = adapters
        self.render = render
        self.clock = clock
        self.idle_poll = idle_poll
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Deliver until cancelled; woken by commits, otherwise polls at ``idle_poll``."""
        while True:
            try:
                delivered = await self.run_once()
            except Exception:
                log.exception("outbox pass failed")
                delivered = 0
            if delivered:
                continue
            wait = await self._until_next_due()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
            self._wake.clear()

    async def _until_next_due(self) -> float:
        if not self.adapters:
            return self.idle_poll
        async with self.db.transaction() as session:
            due = await OutboxRepository(session).next_due(list(self.adapters))
        if due is None:
            return self.idle_poll
        return max(0.0, min(self.idle_poll, (due - self.clock()).total_seconds()))

    async def run_once(self, limit: int = 50) -> int:
        """One pass over what is due now. Returns how many rows it handled."""
        if not self.adapters:
            return 0
        now = self.clock()
        async with self.db.transaction() as session:
            outbox = OutboxRepository(session)
            claimed = list(await outbox.claim_due(now, list(self.adapters), limit))
            for row in claimed:
                if row.op == "refresh":
                    await outbox.mark_sent(row.id, now)
                else:
                    await outbox.postpone(row.id, now + LEASE, attempts=row.attempts + 1)
        for row in claimed:
            await self._deliver(row)
        return len(claimed)

    async def drain(self, within: float = 10.0) -> None:
        """Deliver everything that is due now (and whatever that causes); for tests and CLI."""
        async with asyncio.timeout(within):
            while await self.run_once():
                pass

    async def _deliver(self, row: OutboxMessage) -> None:
        adapter = self.adapters[row.platform]
        try:
            if row.op == "refresh":
                await self._refresh(adapter, row)
                return
            assert row.view is not None
            view = view_from_dict(row.view)
            target = Target(row.channel_id, row.thread_id, private=row.private)
            ref = await adapter.send(target, view, reply_to=row.reply_to)
            name = None
            if row.publication_id is not None:
                name = await ask_channel_name(adapter, target)
            async with self.db.transaction() as session:
                await OutboxRepository(session).mark_sent(row.id, self.clock())
                if row.publication_id is not None:
                    await PublicationRepository(session).set_message_id(
                        row.publication_id, ref.message_id, channel_name=name
                    )
        except DeliveryError as exc:
            await self._failed(row, exc)
        except Exception as exc:
            log.exception("delivery crashed", platform=row.platform, outbox_id=row.id)
            await self._failed(row, DeliveryError(type(exc).__name__))

    async def _refresh(self, adapter: Adapter, row: OutboxMessage) -> None:
        assert row.publication_id is not None
        async with self.db.transaction() as session:
            pub = await session.get(Publication, row.publication_id)
            if pub is None or pub.message_id is None:
                return  # not delivered yet: the pending send will carry the fresh card
            view = await self.render(session, pub)
        if view is None:
            return
        await adapter.edit(
            MessageRef(pub.platform, pub.channel_id, pub.message_id, pub.thread_id), view
        )

    async def _failed(self, row: OutboxMessage, exc: DeliveryError) -> None:
        now = self.clock()
        attempts = row.attempts + 1
        async with self.db.transaction() as session:
            outbox = OutboxRepository(session)
            if row.op == "refresh":
                if not exc.permanent and attempts < MAX_ATTEMPTS:
                    delay = timedelta(seconds=exc.retry_after) if exc.retry_after else backoff(0)
                    assert row.publication_id is not None
                    await outbox.refresh(
                        publication_id=row.publication_id,
                        platform=row.platform,
                        channel_id=row.channel_id,
                        due_at=now + delay,
                    )
                return
            if exc.permanent or attempts >= MAX_ATTEMPTS:
                await outbox.mark_failed(row.id, str(exc))
                log.warning("delivery failed for good", platform=row.platform, outbox_id=row.id)
                return
            delay = (
                timedelta(seconds=exc.retry_after)
                if exc.retry_after is not None
                else backoff(attempts - 1)
            )
            await outbox.postpone(row.id, now + delay, attempts=attempts, error=str(exc))
        log.info(
            "delivery postponed",
            platform=row.platform,
            outbox_id=row.id,
            retry_in=delay.total_seconds(),
        )
