"""The one place that knows SQLite and PostgreSQL spell upserts differently."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def rowcount(result: Any) -> int:
    """Rows touched by an INSERT/UPDATE/DELETE (typed as a plain Result by the async API)."""
    return int(result.rowcount)


def insert(session: AsyncSession, table: Any) -> Any:
    """An INSERT with ``on_conflict_do_nothing``/``on_conflict_do_update`` for the session's DB."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
