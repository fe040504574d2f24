"""Apply Alembic migrations programmatically (``townhall db upgrade``, and on start-up)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from storage.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


async def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema up to ``revision``; a no-op when it is already there."""

    def _run(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), revision)

    if not db.is_sqlite:
        async with db.engine.begin() as conn:
            await conn.run_sync(_run)
        return
    async with db.engine.connect() as conn:
        await conn.run_sync(_run_without_foreign_keys, _run)


def _run_without_foreign_keys(connection: Connection, run: Callable[[Connection], None]) -> None:
    """SQLite: run migrations with foreign keys off, then check them, as SQLite's docs advise.

    A batch migration rebuilds a table (copy, drop, rename); with foreign keys on, dropping the
    old table would cascade and delete the rows that refer to it. The pragma only takes effect
    outside a transaction, hence the raw connection before BEGIN.
    """
    raw = connection.connection.dbapi_connection
    assert raw is not None

    def pragma(sql: str) -> None:
        cursor = raw.cursor()
        cursor.execute(sql)
        cursor.close()

    pragma("PRAGMA foreign_keys=OFF")
    try:
        with connection.begin():
            run(connection)
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"migration left {len(broken)} broken foreign keys")
    finally:
        pragma("PRAGMA foreign_keys=ON")


async def current(db: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    def _current(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with db.engine.connect() as conn:
        return await conn.run_sync(_current)


def head() -> str:
    """The newest revision this code knows."""
    from alembic.script import ScriptDirectory

    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert revision is not None
    return revision
