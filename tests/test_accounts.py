"""Dashboard accounts and password hashing, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError

from dashboard import passwords
from storage import migrate
from storage.accounts import AccountExists, AccountRepository
from storage.db import Database
from storage.models import DashboardUser, Publication

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


async def test_add_and_look_up_case_insensitively(db: Database) -> None:
    async with db.transaction() as session:
        repo = AccountRepository(session)
        user = await repo.add("  Olivia@Example.GOV.uk ", "hash-1", "policy", NOW)
        assert user.email == "olivia@example.gov.uk"
        user_id = user.id
    async with db.transaction() as session:
        repo = AccountRepository(session)
        found = await repo.by_email("OLIVIA@example.gov.UK")
        assert found is not None and found.id == user_id
        assert found.created_at == NOW and found.last_sign_in_at is None
        assert (await repo.by_id(user_id)) is not None
        assert await repo.by_id(user_id + 100) is None
        assert await repo.by_email("nobody@example.gov.uk") is None
        assert await repo.count() == 1


async def test_duplicate_emails_are_refused(db: Database) -> None:
    async with db.transaction() as session:
        await AccountRepository(session).add("a@example.org", "h", "admin", NOW)
    async with db.transaction() as session:
        repo = AccountRepository(session)
        with pytest.raises(AccountExists):
            await repo.add("A@EXAMPLE.ORG", "h2", "policy", NOW)
        # the transaction is still usable after the refusal
        await repo.add("b@example.org", "h", "moderator", NOW)
    async with db.transaction() as session:
        repo = AccountRepository(session)
        assert [(u.email, u.role) for u in await repo.list()] == [
            ("a@example.org", "admin"),
            ("b@example.org", "moderator"),
        ]
        assert await repo.count() == 2


async def test_the_database_enforces_unique_emails_and_known_roles(db: Database) -> None:
    row = {"email": "x@example.org", "password_hash": "h", "role": "policy", "created_at": NOW}
    async with db.transaction() as session:
        await session.execute(insert(DashboardUser).values(**row))
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            await session.execute(insert(DashboardUser).values(**row))
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            await session.execute(
                insert(DashboardUser).values(**{**row, "email": "y@example.org", "role": "root"})
            )
    with pytest.raises(ValueError):
        async with db.transaction() as session:
            await AccountRepository(session).add("z@example.org", "h", "root", NOW)


async def test_set_password_and_sign_in_time(db: Database) -> None:
    async with db.transaction() as session:
        repo = AccountRepository(session)
        user = await repo.add("a@example.org", "old", "policy", NOW)
        await repo.set_password(user, "new")
        await repo.signed_in(user, NOW + timedelta(hours=1))
    async with db.transaction() as session:
        found = await AccountRepository(session).by_email("a@example.org")
        assert found is not None
        assert found.password_hash == "new"
        assert found.last_sign_in_at == NOW + timedelta(hours=1)
        await AccountRepository(session).remove(found)
    async with db.transaction() as session:
        assert await AccountRepository(session).count() == 0


def test_password_hashing() -> None:
    stored = passwords.hash_password("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert passwords.verify_password(stored, "correct horse battery")
    assert not passwords.verify_password(stored, "correct horse battery!")
    assert not passwords.verify_password("not a hash", "correct horse battery")
    assert not passwords.verify_password("", "")
    assert not passwords.needs_rehash(stored)
    assert passwords.verify_dummy("anything at all") is None


def test_password_problems() -> None:
    assert passwords.password_problem("correct horse battery") is None
    assert passwords.password_problem("a" * 12) is None
    assert passwords.password_problem("a" * 11) is not None
    assert passwords.password_problem(" " * 20) is not None
    assert passwords.password_problem("") is not None
    assert passwords.password_problem("a" * 256) is None
    assert passwords.password_problem("a" * 257) is not None


async def test_migration_marks_earlier_private_publications(tmp_path: Path) -> None:
    """0003 adds publications.private and sets it for Slack DMs and Telegram private chats."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        await migrate.upgrade(db, "0002")
        async with db.transaction() as session:
            await session.execute(
                text(
                    "INSERT INTO items (id, short_id, kind, question, status, results_visibility,"
                    " created_at, created_by) VALUES (1, 'abc123', 'ask', 'Q?', 'open', 'live',"
                    " '2026-11-28 09:00:00', 'test:officer')"
                )
            )
            for platform, channel in [
                ("slack", "C01"),
                ("slack", "D01"),
                ("telegram", "-1001"),
                ("telegram", "4242"),
                ("discord", "1187"),
            ]:
                await session.execute(
                    text(
                        "INSERT INTO publications (item_id, platform, channel_id, created_at)"
                        " VALUES (1, :p, :c, '2026-11-28 09:00:00')"
                    ),
                    {"p": platform, "c": channel},
                )
        await migrate.upgrade(db)
        assert await migrate.current(db) == migrate.head()
        async with db.transaction() as session:
            rows = await session.execute(
                select(Publication.channel_id).where(Publication.private).order_by("channel_id")
            )
            assert rows.scalars().all() == ["4242", "D01"]
    finally:
        await db.dispose()
