"""Apply Alembic migrations programmatically (``townhall db upgrade``, and on start-up).

Alembic is imported only when a migration runs: the short CLI commands (``townhall results``,
``list``...) only compare the database's revision with the newest one on disk
(:func:`ensure_current`; ``results`` and ``list`` only refuse a database behind it,
:func:`require_current`), which costs one query instead of about 0.2 s of imports.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from storage.db import Database
from storage.revisions import MIGRATIONS, SchemaBehind, heads_on_disk

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection


#: PostgreSQL advisory lock id held while migrating (any constant of our own).
MIGRATION_LOCK = 7_411_001


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


async def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema up to ``revision``; a no-op when it is already there."""

    from alembic import command

    def _run(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), revision)

    if not db.is_sqlite:
        async with db.engine.begin() as conn:
            # Several workers or containers starting at once: one migrates, the others wait
            # for it (the lock ends with this transaction) and then find nothing to do.
            await conn.execute(text(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
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


async def _revisions_in(db: Database) -> set[str] | None:
    """The database's ``alembic_version`` rows (one query); None when it has no such table."""
    try:
        async with db.engine.connect() as conn:
            rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
            return {row[0] for row in rows}
    except DBAPIError:  # no alembic_version table yet
        return None


async def ensure_current(db: Database) -> None:
    """Upgrade only when the database is not at the newest revision (a fresh database, or
    one behind this code): the common case is one ``SELECT`` and no Alembic import."""
    heads = heads_on_disk()
    if heads is not None and await _revisions_in(db) == heads:
        return
    await upgrade(db)


async def require_current(db: Database) -> None:
    """Raise :class:`SchemaBehind` unless the database is at the newest revision (one
    ``SELECT``; nothing is migrated: the read-only commands leave that to ``db upgrade``)."""
    heads = heads_on_disk() or {head()}
    found = await _revisions_in(db)
    if found != heads:
        raise SchemaBehind(found, heads)
