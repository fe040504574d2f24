"""The durable outbox: messages that must arrive, written with the change that causes them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import insert
from storage.models import PENDING_REFRESH_WHERE, OutboxMessage


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def send(
        self,
        *,
        platform: str,
        channel_id: str,
        view: dict[str, Any],
        at: datetime,
        thread_id: str | None = None,
        reply_to: str | None = None,
        publication_id: int | None = None,
        private: bool = False,
    ) -> None:
        self.session.add(
            OutboxMessage(
                op="send",
                private=private,
                platform=platform,
                channel_id=channel_id,
                thread_id=thread_id,
                reply_to=reply_to,
                publication_id=publication_id,
                view=view,
                status="pending",
                attempts=0,
                due_at=at,
                created_at=at,
            )
        )

    async def refresh(
        self, *, publication_id: int, platform: str, channel_id: str, due_at: datetime
    ) -> None:
        """Ask for the publication to be re-rendered by ``due_at``.

        Coalesces with a pending request: many votes, one edit. A pending request due later is
        brought forward (e.g. closing the item should show at once).
        """
        await self.session.execute(
            insert(self.session, OutboxMessage)
            .values(
                op="refresh",
                platform=platform,
                channel_id=channel_id,
                publication_id=publication_id,
                status="pending",
                attempts=0,
                due_at=due_at,
                created_at=due_at,
            )
            .on_conflict_do_nothing(
                index_elements=["publication_id"],
                index_where=text(PENDING_REFRESH_WHERE),
            )
        )
        await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.publication_id == publication_id,
                OutboxMessage.status == "pending",
                OutboxMessage.op == "refresh",
                OutboxMessage.due_at > due_at,
            )
            .values(due_at=due_at)
            .execution_options(synchronize_session=False)
        )

    async def claim_due(
        self, now: datetime, platforms: Sequence[str], limit: int = 50
    ) -> Sequence[OutboxMessage]:
        """Due messages for the platforms this worker serves, locked against other workers."""
        query = (
            select(OutboxMessage)
            .where(
                OutboxMessage.status == "pending",
                OutboxMessage.due_at <= now,
                OutboxMessage.platform.in_(platforms),
            )
            .order_by(OutboxMessage.due_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.execute(query)).scalars().all()

    async def next_due(self, platforms: Sequence[str]) -> datetime | None:
        query = (
            select(OutboxMessage.due_at)
            .where(OutboxMessage.status == "pending", OutboxMessage.platform.in_(platforms))
            .order_by(OutboxMessage.due_at)
            .limit(1)
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def mark_sent(self, message_id: int, at: datetime) -> None:
        await self._set(message_id, status="sent", sent_at=at, last_error=None)

    async def mark_failed(self, message_id: int, error: str) -> None:
        await self._set(message_id, status="failed", last_error=error[:500])

    async def postpone(
        self, message_id: int, due_at: datetime, *, attempts: int, error: str | None = None
    ) -> None:
        """Make a message due again later (a lease while delivering, or a retry)."""
        values: dict[str, Any] = {"attempts": attempts, "due_at": due_at}
        if error is not None:
            values["last_error"] = error[:500]
        await self._set(message_id, **values)

    async def pending(self, platform: str | None = None) -> Sequence[OutboxMessage]:
        query = select(OutboxMessage).where(OutboxMessage.status == "pending")
        if platform:
            query = query.where(OutboxMessage.platform == platform)
        return (await self.session.execute(query.order_by(OutboxMessage.id))).scalars().all()

    async def _set(self, message_id: int, **values: Any) -> None:
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def backoff(attempts: int, base: float = 2.0, cap: float = 600.0) -> timedelta:
    """Exponential backoff for delivery retries: 2 s, 4 s, 8 s ... at most 10 minutes."""
    return timedelta(seconds=min(cap, base * (2 ** max(0, attempts))))
