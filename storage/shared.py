"""State several workers share when there is no Redis: rate limits and the web chat's mailbox.

Rate limits are GCRA (a burst, then a steady rate), one row per key holding its theoretical
arrival time (``tat``, seconds since the epoch). Times come from the database's clock, so the
workers' own clocks need not agree. Callers run these in :meth:`Database.statement` (one
statement, autocommit on PostgreSQL) unless said otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Float, case, delete, func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import dialect
from storage.models import RateLimit, WebMail


def _now(session: AsyncSession, now: float | None) -> Any:
    """``now`` when given (tests), else the database's clock in epoch seconds, one value for
    the whole statement (PostgreSQL's ``now()`` is the statement's start in autocommit)."""
    if now is not None:
        return literal(now, Float())
    if dialect.is_postgresql(session):
        return func.date_part("epoch", func.now())
    return (func.julianday("now") - 2440587.5) * 86400.0


class RateLimits:
    """GCRA buckets: ``step`` is the seconds one hit costs, ``slack`` how far ahead of now a
    key's arrival time may run (``period - step`` for a burst of ``period / step``)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def hit(self, key: str, step: float, slack: float, now: float | None = None) -> bool:
        """Count a hit if it conforms (one atomic upsert); whether it was counted."""
        table = RateLimit.__table__
        at = _now(self.session, now)
        start = case((table.c.tat > at, table.c.tat), else_=at)
        statement = (
            dialect.insert(self.session, table)
            .values(key=key, tat=at + step)
            .on_conflict_do_update(
                index_elements=[table.c.key],
                set_={"tat": start + step},
                where=start - at <= slack,
            )
            .returning(table.c.key)
        )
        return (await self.session.execute(statement)).first() is not None

    async def wait(self, buckets: Sequence[tuple[str, float]], now: float | None = None) -> float:
        """Seconds until a hit conforms under every ``(key, slack)``: 0.0 when it does now."""
        table = RateLimit.__table__
        at = _now(self.session, now)
        keys = [key for key, _ in buckets]
        rows = (
            await self.session.execute(
                select(table.c.key, table.c.tat, at.label("now")).where(table.c.key.in_(keys))
            )
        ).all()
        slack = dict(buckets)
        return max([0.0, *(float(tat) - float(at_) - slack[key] for key, tat, at_ in rows)])

    async def prune(self, now: float | None = None) -> int:
        """Delete the keys whose arrival time has passed (they hold nothing back)."""
        result = await self.session.execute(
            delete(RateLimit).where(RateLimit.tat < _now(self.session, now))
        )
        return dialect.rowcount(result)


class WebMailbox:
    """Private messages waiting for web chat visitors, by a digest of the visitor id."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def post(self, visitor: str, view: str, at: datetime, keep_each: int) -> None:
        """Leave ``view`` for ``visitor``, keeping only their newest ``keep_each`` (two
        statements: run in a transaction)."""
        await self.session.execute(
            insert(WebMail).values(visitor=visitor, view=view, created_at=at)
        )
        newest = (
            select(WebMail.id)
            .where(WebMail.visitor == visitor)
            .order_by(WebMail.id.desc())
            .limit(keep_each)
        )
        await self.session.execute(
            delete(WebMail).where(WebMail.visitor == visitor, WebMail.id.not_in(newest))
        )

    async def take(self, visitor: str, since: datetime) -> list[str]:
        """Delete every message left for ``visitor`` (one statement) and return those left
        at or after ``since``, oldest first."""
        result = await self.session.execute(
            delete(WebMail)
            .where(WebMail.visitor == visitor)
            .returning(WebMail.id, WebMail.view, WebMail.created_at)
            .execution_options(synchronize_session=False)
        )
        rows = sorted(result.all())
        return [view for _, view, created_at in rows if created_at >= since]

    async def prune(self, before: datetime) -> int:
        """Delete the messages left before ``before`` (never shown in time)."""
        result = await self.session.execute(delete(WebMail).where(WebMail.created_at < before))
        return dialect.rowcount(result)
