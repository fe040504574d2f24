"""The throwaway database every bench runs on: a temporary SQLite file, or a new PostgreSQL
database (on the local server as ``postgres``) dropped at the end, however the bench ends."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@asynccontextmanager
async def fresh_database(kind: str, name: str) -> AsyncIterator[str]:
    """A SQLAlchemy URL of an empty database of ``kind`` (sqlite or postgresql); ``name``
    tells whose it is (the PostgreSQL database is ``townhall_<name>_<random>``)."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite+aiosqlite:///{tmp}/{name}.db"
        return
    import asyncpg

    database = f"townhall_{name}_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'CREATE DATABASE "{database}"')
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{database}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()
