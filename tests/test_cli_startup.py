"""The short CLI commands start fast: no heavy imports, no Alembic unless the schema is behind.

Start-up time itself is measured by ``bench/tally.py`` (never asserted here); these tests pin the
causes: what ``import townhall.cli`` loads, and that the cheap revision check still brings a
fresh or old database up to date.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text

from storage import migrate
from storage.db import Database
from tests.conftest import PG_ADMIN_URL, _plain

HEAVY = (
    "alembic",
    "aiohttp",
    "telegram",
    "slack_bolt",
    "discord",
    "profanity_check",
    "sklearn",
    "jinja2",
    "odf",
    "adapters",
    "dashboard",
    "handlers",
    "townhall.app",
)


def test_importing_the_cli_loads_no_heavy_module() -> None:
    probe = (
        "import json, sys; import townhall.cli; "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} | set(sys.modules))))"
    )
    loaded = set(json.loads(subprocess.check_output([sys.executable, "-c", probe], text=True)))
    assert [name for name in HEAVY if name in loaded] == []


def test_loading_the_settings_loads_no_heavy_module() -> None:
    """Every command validates the settings (TOWNHALL_TRUSTED_PROXIES among them)."""
    probe = (
        "import json, sys; from townhall.cli_settings import cli_settings; cli_settings(); "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} | set(sys.modules))))"
    )
    env = {**os.environ, "TOWNHALL_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8"}
    output = subprocess.check_output([sys.executable, "-c", probe], text=True, env=env)
    loaded = set(json.loads(output.splitlines()[-1]))
    assert [name for name in HEAVY if name in loaded] == []


def test_the_cheap_head_reader_agrees_with_alembic() -> None:
    assert migrate.heads_on_disk() == {migrate.head()}


@pytest.fixture(params=["sqlite", "postgresql"])
async def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database (not the session's migrated one)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
        return
    if "postgresql" not in os.environ.get("TOWNHALL_TEST_DATABASES", "sqlite,postgresql"):
        pytest.skip("PostgreSQL not selected (TOWNHALL_TEST_DATABASES)")
    name = f"townhall_fresh_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(_plain(PG_ADMIN_URL), timeout=10)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_ensure_current_migrates_a_fresh_and_an_old_database(fresh_url: str) -> None:
    db = Database(fresh_url)
    try:
        await migrate.ensure_current(db)  # fresh: no alembic_version table at all
        assert await migrate.current(db) == migrate.head()
        await migrate.ensure_current(db)  # at head: one SELECT, nothing to do
        assert await migrate.current(db) == migrate.head()
    finally:
        await db.dispose()


async def test_ensure_current_upgrades_a_database_behind_the_code(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        await migrate.upgrade(db, "0001")
        await migrate.ensure_current(db)
        assert await migrate.current(db) == migrate.head()
        async with db.transaction() as session:  # a table from a later revision exists
            await session.execute(text("SELECT count(*) FROM dashboard_users"))
    finally:
        await db.dispose()
