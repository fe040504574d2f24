"""State several workers share when there is no Redis: rate limits, send budgets and the web
chat's mailbox.

The web chat's rate limits are GCRA (a burst, then a steady rate), one row per key holding its
theoretical arrival time (``tat``, seconds since the epoch); the outbox's send budgets are
moving windows, one row per key holding its sends' times. Times come from the database's
clock, so the workers' own clocks need not agree. Callers run these in
:meth:`Database.statement` (one statement, autocommit on PostgreSQL) unless said otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    String,
    Table,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage import dialect
from storage.models import RateLimit, SendWindow, WebMail


def _now(session: AsyncSession, now: float | None) -> Any:
    """``now`` when given (tests), else the database's clock in epoch seconds, one value for
    the whole statement (PostgreSQL's ``now()`` is the statement's start in autocommit)."""
    if now is not None:
        return literal(now, Float())
    if dialect.is_postgresql(session):
        return func.date_part("epoch", func.now())
    return (func.julianday("now") - 2440587.5) * 86400.0


_HITS: dict[tuple[bool, bool], Any] = {}


def _hit_statement(postgresql: bool, given_now: bool) -> Any:
    """:meth:`RateLimits.hit`'s upsert, built once per dialect with its values as parameters
    (built per call, SQLAlchemy derived its cache key from the values clause every time: a
    web chat post checks two limits, and that was most of their cost)."""
    built = _HITS.get((postgresql, given_now))
    if built is not None:
        return built
    table: Table = RateLimit.__table__  # type: ignore[assignment]
    if given_now:
        at: Any = bindparam("now", type_=Float())
    elif postgresql:
        at = func.date_part("epoch", func.now())
    else:
        at = (func.julianday("now") - 2440587.5) * 86400.0
    step, slack = bindparam("step", type_=Float()), bindparam("slack", type_=Float())
    start = case((table.c.tat > at, table.c.tat), else_=at)
    base = (pg_insert if postgresql else sqlite_insert)(table)
    built = _HITS[(postgresql, given_now)] = (
        base.values(key=bindparam("key", type_=String()), tat=at + step)
        .on_conflict_do_update(
            index_elements=[table.c.key],
            set_={"tat": start + step},
            where=start - at <= slack,
        )
        .returning(table.c.key)
    )
    return built


class RateLimits:
    """GCRA buckets: ``step`` is the seconds one hit costs, ``slack`` how far ahead of now a
    key's arrival time may run (``period - step`` for a burst of ``period / step``)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def hit(self, key: str, step: float, slack: float, now: float | None = None) -> bool:
        """Count a hit if it conforms (one atomic upsert); whether it was counted."""
        params: dict[str, Any] = {"key": key, "step": step, "slack": slack}
        if now is not None:
            params["now"] = now
        statement = _hit_statement(dialect.is_postgresql(self.session), now is not None)
        return (await self.session.execute(statement, params)).first() is not None

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


#: One send under a moving window "amount per period", if the window has room (PostgreSQL).
_SEND = text(
    """
    INSERT INTO send_windows AS w (key, hits, until)
    VALUES (:key, ARRAY[date_part('epoch', now())], date_part('epoch', now()) + :period)
    ON CONFLICT (key) DO UPDATE SET
        hits = ARRAY(
            SELECT h FROM unnest(w.hits) AS h
            WHERE h > date_part('epoch', now()) - :period ORDER BY h
        ) || date_part('epoch', now()),
        until = date_part('epoch', now()) + :period
    WHERE (
        SELECT count(*) FROM unnest(w.hits) AS h WHERE h > date_part('epoch', now()) - :period
    ) < :amount
    RETURNING w.key
    """
).bindparams(
    bindparam("key", type_=String()),
    bindparam("amount", type_=Integer()),
    bindparam("period", type_=Float()),
)


class SendWindows:
    """The outbox's send budgets as moving windows, as ``limits`` keeps them (PostgreSQL only:
    each window is an array of its sends' times, changed by one atomic upsert)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def wait(self, windows: Sequence[tuple[str, int, float]]) -> float:
        """Seconds until one more send fits every ``(key, amount, period)``: 0.0 when it does."""
        periods = {key: (amount, period) for key, amount, period in windows}
        now = func.date_part("epoch", func.now())
        rows = (
            await self.session.execute(
                select(SendWindow.key, SendWindow.hits, now).where(
                    SendWindow.key.in_(list(periods))
                )
            )
        ).all()
        wait = 0.0
        for key, hits, at in rows:
            amount, period = periods[key]
            live = sorted(h for h in hits if h > at - period)
            if len(live) >= amount:  # full: until the oldest of the last ``amount`` leaves
                wait = max(wait, live[-amount] + period - at)
        return wait

    async def hit(self, key: str, amount: int, period: float) -> bool:
        """Count one send under ``key`` if its window has room; whether it was counted."""
        params = {"key": key, "amount": amount, "period": period}
        return (await self.session.execute(_SEND, params)).first() is not None

    async def prune(self) -> int:
        """Delete the windows whose every send has left them."""
        result = await self.session.execute(
            delete(SendWindow).where(SendWindow.until < func.date_part("epoch", func.now()))
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
