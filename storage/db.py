"""Engine and session setup for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

#: ``session.info`` keys a repository sets when it writes something a background loop waits
#: for; whoever commits the session wakes that loop (once per commit, not once per vote).
WROTE_OUTBOX = "townhall.wrote_outbox"
WROTE_DEADLINE = "townhall.wrote_deadline"


def wrote(session: AsyncSession, what: str) -> None:
    """Note that this transaction wrote an outbox row or a deadline (see the keys above)."""
    session.info[what] = True


def written(session: AsyncSession) -> frozenset[str]:
    """What :func:`wrote` noted in this session's transaction."""
    return frozenset(k for k in (WROTE_OUTBOX, WROTE_DEADLINE) if session.info.get(k))


class Database:
    """Owns the engine and hands out sessions; one per process."""

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        pool_size: int = 25,
        max_overflow: int = 5,
        pool_timeout: float = 30.0,
    ) -> None:
        """The pool settings apply to PostgreSQL; ``pool_timeout`` is how long a request waits
        for a free connection before it fails (and is then not acknowledged). Connections are
        opened as needed and up to ``pool_size`` are kept: one beyond it is closed when
        returned, and under a burst of page loads (the web chat reads each visitor's page)
        opening and closing them, with their statement caches lost, was a quarter of the
        process's work (docs/performance.md)."""
        self.url = url
        self.pool_timeout = pool_timeout
        self.is_sqlite = url.startswith("sqlite")
        # hide_parameters: error messages and logs never show bound values (people's answers,
        # raw platform ids).
        kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs.update(
                pool_size=pool_size,
                max_overflow=max_overflow,
                pool_timeout=pool_timeout,
                # No pre-ping (3 round trips per checkout): a connection lost since its last use
                # fails the transaction, which is then retried or answered as an outage.
            )
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            _sqlite_immediate_transactions(self.engine)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self, *, lock_wait: float | None = None) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error.

        ``lock_wait`` (PostgreSQL): give up waiting for a row or table lock after this many
        seconds (an outage: the caller answers non-2xx) instead of waiting indefinitely.
        """
        async with self.sessions() as session, session.begin():
            if lock_wait is not None and not self.is_sqlite:
                milliseconds = max(1, int(lock_wait * 1000))
                await session.execute(text(f"SET LOCAL lock_timeout = {milliseconds}"))
            yield session

    @asynccontextmanager
    async def statement(self) -> AsyncIterator[AsyncSession]:
        """A session for ONE write that is a transaction by itself (a single statement).

        PostgreSQL runs it in autocommit: one round trip instead of three (``BEGIN``, the
        statement, ``COMMIT``), the statement being atomic on its own. The outbox's per-row
        bookkeeping uses it (docs/performance.md). SQLite runs it in an ordinary transaction
        (its round trips are in-process). Never use it for two statements that must stand or
        fall together.
        """
        if self.is_sqlite:
            async with self.transaction() as session:
                yield session
            return
        async with self.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            async with AsyncSession(bind=conn, expire_on_commit=False) as session:
                yield session

    async def ping(self) -> None:
        """``SELECT 1`` on a fresh connection: raises when the database is unreachable."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


def _sqlite_immediate_transactions(engine: AsyncEngine) -> None:
    """Take SQLite's write lock at BEGIN so concurrent writers wait instead of failing.

    The sqlite3 module's own implicit transactions start deferred, and a deferred transaction
    that later writes can fail at once with "database is locked" (SQLAlchemy's documented recipe).
    """
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
