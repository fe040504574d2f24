"""Answer refs are never reused; an erased answer leaves a tombstone (issue 12, defect 2)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import select, text

from storage import migrate
from storage.db import Database
from storage.models import AuditEntry, ErasedAnswer
from tests.conftest import PG_ADMIN_URL
from tests.support import People, RecordingAdapter
from tests.test_handlers import create, text_of
from tests.test_moderation import answer
from townhall.app import Townhall

App = tuple[Townhall, RecordingAdapter]


async def test_refs_are_not_reused_after_forget(app: App, people: People) -> None:
    townhall, _ = app
    q = await create(townhall, people, 'ask "Ideas?"')
    first = await answer(townhall, people, "ann", q, "first")
    await townhall.dispatch(people.command("bob", f"report {first}"))
    await townhall.dispatch(people.click_button("ann", "forget", "confirm"))

    second = await answer(townhall, people, "cat", q, "second")
    assert second != first, "a forgotten answer's ref was handed to someone else"
    gone = await townhall.dispatch(people.command("mod", f"approve {first}"))
    assert text_of(gone.notices) == f"Answer {first} was erased at its author's request."
    async with townhall.db.transaction() as session:
        tombstone = await session.get(ErasedAnswer, int(first[1:]))
        audited = (
            await session.execute(
                select(AuditEntry.target).where(AuditEntry.action == "answer.approve")
            )
        ).all()
    assert tombstone is not None and not audited


@pytest.fixture
async def fresh_url(db_url: str, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of the same backend, for migrating from an older revision."""
    if db_url.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        return
    name = f"townhall_mig_{uuid.uuid4().hex[:8]}"
    admin = PG_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(admin, timeout=10)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    conn = await asyncpg.connect(admin, timeout=10)
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


async def test_migration_keeps_rows_and_fixes_staff_actors(fresh_url: str) -> None:
    db = Database(fresh_url)
    try:
        await migrate.upgrade(db, "0003")
        async with db.transaction() as session:
            for sql in (
                "INSERT INTO items (id, short_id, kind, question, status, results_visibility,"
                " created_at, created_by, moderation, notify_authors) VALUES (1, 'abc123', 'ask',"
                " 'Q?', 'open', 'live', '2026-12-01 09:00:00', 'web:dashboard:p@x.gov.uk',"
                " 'strict', true)",
                "INSERT INTO participants (id, pseudonym, platform, created_at)"
                " VALUES (1, 'p1', 'test', '2026-12-01 09:00:00'),"
                " (2, 'p2', 'test', '2026-12-01 09:00:00')",
                "INSERT INTO answers (id, item_id, participant_id, platform, text, status, flags,"
                " created_at, needs_review, escalated, redacted) VALUES (7, 1, 1, 'test', 'hi',"
                " 'visible', '[]', '2026-12-01 09:00:00', false, false, false)",
                "INSERT INTO reports (answer_id, reporter_id, created_at)"
                " VALUES (7, 2, '2026-12-01 09:00:00')",
                "INSERT INTO audit_log (at, actor, action, target, details) VALUES"
                " ('2026-12-01 09:00:00', 'web:dashboard:p@x.gov.uk', 'item.create', 'abc123',"
                " '{}'),"
                " ('2026-12-01 09:00:00', 'dashboard:m@x.gov.uk', 'answer.hide', 'A7', '{}')",
            ):
                await session.execute(text(sql))
        await migrate.upgrade(db)
        async with db.transaction() as session:
            actors = (await session.execute(text("SELECT actor FROM audit_log ORDER BY id"))).all()
            creator = (await session.execute(text("SELECT created_by FROM items"))).scalar_one()
            reports = (await session.execute(text("SELECT count(*) FROM reports"))).scalar_one()
            ids = (await session.execute(text("SELECT id FROM answers"))).scalars().all()
        assert [a for (a,) in actors] == ["dashboard:p@x.gov.uk", "dashboard:m@x.gov.uk"]
        assert creator == "dashboard:p@x.gov.uk" and reports == 1 and ids == [7]
    finally:
        await db.dispose()
