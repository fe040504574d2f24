"""Processed events (idempotency) and the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import insert, is_postgresql, pg_batch, rowcount
from storage.models import AuditEntry, ProcessedEvent

#: :meth:`EventLedger.claim_many` on PostgreSQL: one statement whatever the batch's size.
PG_CLAIM_EVENTS = pg_batch(
    "INSERT INTO processed_events (platform, event_id, processed_at)"
    " SELECT p, e, :at FROM unnest(CAST(:platforms AS varchar[]), CAST(:events AS varchar[]))"
    " AS t(p, e) ON CONFLICT (platform, event_id) DO NOTHING RETURNING platform, event_id",
    ("platforms", String),
    ("events", String),
    at=True,
)


class EventLedger:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, platform: str, event_id: str, at: datetime) -> bool:
        """Record the event as processed; False when it already was (a redelivery)."""
        result = await self.session.execute(
            insert(self.session, ProcessedEvent)
            .values(platform=platform, event_id=event_id, processed_at=at)
            .on_conflict_do_nothing(index_elements=["platform", "event_id"])
        )
        return bool(rowcount(result))

    async def claim_many(
        self, events: Sequence[tuple[str, str]], at: datetime
    ) -> set[tuple[str, str]]:
        """Record many (platform, event_id) pairs in one statement; returns the new ones (the
        others were processed before: redeliveries)."""
        if not events:
            return set()
        if is_postgresql(self.session):
            platforms, ids = ([event[i] for event in events] for i in (0, 1))
            params = {"platforms": platforms, "events": ids, "at": at}
            return {(p, e) for p, e in await self.session.execute(PG_CLAIM_EVENTS, params)}
        table = ProcessedEvent.__table__
        stmt = (
            insert(self.session, table)
            .on_conflict_do_nothing(index_elements=["platform", "event_id"])
            .returning(table.c.platform, table.c.event_id)
        )
        rows = [{"platform": p, "event_id": e, "processed_at": at} for p, e in events]
        result = await self.session.execute(stmt, rows)
        return {(p, e) for p, e in result.all()}


class AuditLog:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(
        self, actor: str, action: str, target: str, at: datetime, **details: Any
    ) -> None:
        self.session.add(
            AuditEntry(at=at, actor=actor, action=action, target=target, details=details)
        )

    async def entries(self, limit: int = 100) -> Sequence[AuditEntry]:
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        return (await self.session.execute(query)).scalars().all()
