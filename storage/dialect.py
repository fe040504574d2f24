"""The one place that knows SQLite and PostgreSQL spell upserts differently."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BindParameter, TextClause, bindparam, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import UTCDateTime


def rowcount(result: Any) -> int:
    """Rows touched by an INSERT/UPDATE/DELETE (typed as a plain Result by the async API)."""
    return int(result.rowcount)


def insert(session: AsyncSession, table: Any) -> Any:
    """An INSERT with ``on_conflict_do_nothing``/``on_conflict_do_update`` for the session's DB."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def is_postgresql(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def pg_batch(sql: str, *arrays: tuple[str, Any], at: bool = False) -> TextClause:
    """A PostgreSQL statement taking a batch as typed arrays (``arrays``: name and element
    type), and ``:at``, a time: one SQL text whatever the batch's size, so it is prepared once
    per connection (an ``IN (...)`` list or a multi-row ``VALUES`` is a new statement for
    every size, and re-rendered with a cast per value each time)."""
    params: list[BindParameter[Any]] = [bindparam(name, type_=ARRAY(kind)) for name, kind in arrays]
    if at:
        params.append(bindparam("at", type_=UTCDateTime()))
    return text(sql).bindparams(*params)
