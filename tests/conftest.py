"""Fixtures: every database test runs on SQLite and on the PostgreSQL server on this machine.

PostgreSQL comes from ``TOWNHALL_TEST_POSTGRES_URL`` (default: the local server as user
``postgres``). If it cannot be reached the PostgreSQL tests fail; they never skip. Set
``TOWNHALL_TEST_DATABASES=sqlite`` to run only SQLite on a machine without PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text

from bot.config import Settings
from storage import migrate
from storage.db import Database
from storage.models import Base
from tests.support import FakeClock, People, RecordingAdapter
from townhall.app import Townhall

PG_ADMIN_URL = os.environ.get(
    "TOWNHALL_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = [
    b.strip() for b in os.environ.get("TOWNHALL_TEST_DATABASES", "sqlite,postgresql").split(",")
]
# The PostgreSQL tests skip only when PostgreSQL is left out on purpose, and never in CI.
assert "postgresql" in BACKENDS or not os.environ.get("CI"), (
    "CI runs every test on PostgreSQL too: do not set TOWNHALL_TEST_DATABASES there"
)
SECRET = "test-secret-key-not-for-production"


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, migrated once, dropped at the end."""
    name = f"townhall_test_{uuid.uuid4().hex[:8]}"
    admin = _plain(PG_ADMIN_URL)

    async def create() -> None:
        conn = await asyncpg.connect(admin, timeout=10)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    async def drop() -> None:
        conn = await asyncpg.connect(admin, timeout=10)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    try:
        asyncio.run(create())
    except Exception as exc:
        pytest.fail(
            f"PostgreSQL at {PG_ADMIN_URL} is unreachable ({exc!r}); start it, or set "
            "TOWNHALL_TEST_DATABASES=sqlite to run without it",
            pytrace=False,
        )
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

    async def upgrade() -> None:
        db = Database(url)
        await migrate.upgrade(db)
        await db.dispose()

    asyncio.run(upgrade())
    yield url
    asyncio.run(drop())


#: For a test that does not lean on the database (a platform's own rendering, say): SQLite only.
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("pg_database"))
    return f"sqlite+aiosqlite:///{tmp_path / 'townhall.db'}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per run; each test's database starts as a copy of it."""
    path = tmp_path_factory.mktemp("template") / "townhall.db"

    async def upgrade() -> None:
        database = Database(f"sqlite+aiosqlite:///{path}")
        await migrate.upgrade(database)
        await database.dispose()

    asyncio.run(upgrade())
    return path


@pytest.fixture
def fresh_sqlite(db_url: str, sqlite_template: Path) -> bool:
    """A test's new SQLite database starts as a copy of the migrated template (True if so)."""
    if not db_url.startswith("sqlite"):
        return False
    target = Path(db_url.split(":///", 1)[1])
    if target.exists():
        return False
    shutil.copyfile(sqlite_template, target)
    return True


@pytest.fixture
async def db(db_url: str, fresh_sqlite: bool) -> AsyncIterator[Database]:
    database = Database(db_url)
    if database.is_sqlite:
        if not fresh_sqlite:
            await migrate.upgrade(database)
    else:
        async with database.transaction() as session:
            tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
            await session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield database
    await database.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(
        database_url=db_url,
        secret_key=SECRET,  # type: ignore[arg-type]
        policy_team="test:officer",
        moderators="test:mod",
        refresh_interval=0,
        env="test",
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
async def app(
    settings: Settings, db: Database, clock: FakeClock
) -> AsyncIterator[tuple[Townhall, RecordingAdapter]]:
    adapter = RecordingAdapter()
    townhall = Townhall(settings, [adapter], db=db, clock=clock)
    await townhall.start(serve_http=False, background=False)
    yield townhall, adapter
    await townhall.stop()


@pytest.fixture
def people() -> People:
    return People()
