"""Fault tests: PostgreSQL made unusable under a stream of Telegram webhook votes.

The server itself is never restarted (other test sessions share it): the per-test database
refuses connections (``ALLOW_CONNECTIONS false`` and its backends terminated), or a lock on
``processed_events`` holds every pooled connection. While it lasts nothing is acknowledged
with 2xx, ``/readyz`` says not ready; afterwards the background loops resume by themselves
and every vote Telegram delivers again counts once.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import aiohttp
import asyncpg
import pytest
from sqlalchemy import func, select

from storage import migrate
from storage.db import Database
from storage.models import ProcessedEvent, Vote
from tests.conftest import PG_ADMIN_URL
from tests.drivers.telegram_kit import (  # noqa: F401 - fake_telegram is a fixture
    OFFICER_ID,
    WAIT,
    Harness,
    count_rows,
    fake_telegram,
    keyboard_of,
    running,
)
from tests.fakes.telegram import JSON, FakeTelegram
from tests.support import FakeClock
from tests.waiting import until

pytestmark = [pytest.mark.timeout(120)]


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


@pytest.fixture
async def pg() -> AsyncIterator[Database]:
    """A database of its own (its connections are refused in these tests), with a pool of two
    connections that gives up waiting for one after a second."""
    name = f"townhall_outage_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(_plain(PG_ADMIN_URL), timeout=10)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    setup = Database(url)
    await migrate.upgrade(setup)
    await setup.dispose()
    db = Database(url, pool_size=2, max_overflow=0, pool_timeout=1.0)
    try:
        yield db
    finally:
        await db.dispose()
        admin = await asyncpg.connect(_plain(PG_ADMIN_URL), timeout=10)
        try:
            await admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


def _db_name(db: Database) -> str:
    return db.url.rsplit("/", 1)[1]


async def refuse_connections(db: Database) -> None:
    admin = await asyncpg.connect(_plain(PG_ADMIN_URL), timeout=10)
    try:
        await admin.execute(f'ALTER DATABASE "{_db_name(db)}" WITH ALLOW_CONNECTIONS false')
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            _db_name(db),
        )
    finally:
        await admin.close()


async def allow_connections(db: Database) -> None:
    admin = await asyncpg.connect(_plain(PG_ADMIN_URL), timeout=10)
    try:
        await admin.execute(f'ALTER DATABASE "{_db_name(db)}" WITH ALLOW_CONNECTIONS true')
    finally:
        await admin.close()


async def probe(h: Harness, path: str) -> int:
    url = f"http://127.0.0.1:{h.app.http_port}{path}"
    async with aiohttp.ClientSession() as session, session.get(url) as r:
        return r.status


async def vote_count(db: Database) -> int:
    async with db.transaction() as session:
        return int((await session.execute(select(func.count(Vote.id)))).scalar_one())


async def publish(h: Harness, chat: JSON, officer: JSON, question: str) -> tuple[str, JSON]:
    """/poll with the background outbox running: wait for the card itself."""
    await h.deliver(h.fake.command_update(chat, officer, f'/poll "{question}" "Yes" "No"'))
    await h.fake.wait_for_call(
        "sendMessage",
        lambda c: f"<b>{question}</b>" in str(c.params.get("text", "")),
        timeout=WAIT,
    )
    [card] = [
        m
        for m in h.fake.sent_messages(chat["id"])
        if m["text"].startswith(question) and "reply_markup" in m
    ]
    short_id = keyboard_of(card)[0][0][1].split(":")[1]
    return short_id, card


def clicks(fake: FakeTelegram, card: JSON, count: int, first_id: int) -> list[JSON]:
    data = keyboard_of(card)[0][0][1]
    voters = [fake.user(first_id + n, f"Voter {n}") for n in range(count)]
    return [fake.callback_update(v, card, data) for v in voters]


async def deliver_until_acknowledged(h: Harness, update: JSON, first: int) -> None:
    """Telegram resends an update until it gets 2xx."""
    status = first
    for _ in range(20):
        if 200 <= status < 300:
            return
        status = await h.fake.post_to_webhook(h.webhook_url, update)
    raise AssertionError(f"never acknowledged: {status}")


async def test_refused_connections_answer_non_2xx_and_everything_resumes(
    fake: FakeTelegram, pg: Database, clock: FakeClock
) -> None:
    group = fake.group(-1001000000090, "Town square")
    officer = fake.user(OFFICER_ID, "Olivia")
    async with running(fake, pg, clock, webhook=True, background=True) as h:
        poll, card = await publish(h, group, officer, "Outage?")
        before = clicks(fake, card, 3, 7000)
        assert await h.deliver_all(before) == [200, 200, 200]
        during = clicks(fake, card, 4, 7100)

        await refuse_connections(pg)
        try:
            statuses = await h.deliver_all(during)
            assert all(s is not None and s >= 500 for s in statuses), statuses
            await until(
                lambda: _true(h.app.deliverer.loop.failures > 0), "the outbox noticed the outage"
            )
            assert h.app.deliverer.loop.status().alive  # failing, not dead
            assert await probe(h, "/readyz") == 503
            assert await probe(h, "/healthz") == 503
        finally:
            await allow_connections(pg)

        # The loops come back by themselves, and a card published now goes out (the outbox
        # used to stay dead after such an outage).
        await until(lambda: _true(all(lp.failures == 0 for lp in h.app.loops)), "loops resumed")
        await publish(h, group, officer, "After?")
        assert await probe(h, "/readyz") == 200
        for update, status in zip(during, statuses, strict=True):
            await deliver_until_acknowledged(h, update, status or 500)
        for update in during:  # and a late duplicate is still counted once
            assert await h.deliver(update) == 200
        assert await vote_count(pg) == 7
        assert (await h.tally(poll))["options"][0]["votes"] == 7


async def test_a_lock_exhausting_the_pool_loses_no_acknowledged_vote(
    fake: FakeTelegram, pg: Database, clock: FakeClock
) -> None:
    group = fake.group(-1001000000091, "Town square")
    officer = fake.user(OFFICER_ID, "Olivia")
    async with running(fake, pg, clock, webhook=True, background=True) as h:
        poll, card = await publish(h, group, officer, "Locked?")
        votes = clicks(fake, card, 8, 7200)
        holder = await asyncpg.connect(_plain(pg.url), timeout=10)
        locked = holder.transaction()
        await locked.start()
        await holder.execute("LOCK TABLE processed_events IN ACCESS EXCLUSIVE MODE")
        try:
            tasks = [asyncio.create_task(h.deliver(v)) for v in votes]
            # The votes' batch waits on the lock for the pool's timeout (a second), is retried
            # once and fails: not acknowledged. (The batch writer holds one connection, so the
            # pool is not exhausted and /readyz, which checks the database, stays ready.)
            await until(
                lambda: _true(sum(t.done() for t in tasks) >= 4), "requests refused", within=30
            )
            finished = [t.result() for t in tasks if t.done()]
            assert all(s is not None and s >= 500 for s in finished), finished
        finally:
            await locked.rollback()
            await holder.close()
        statuses = await asyncio.gather(*tasks)
        acknowledged = [v for v, s in zip(votes, statuses, strict=True) if s == 200]
        # every acknowledged vote is stored
        assert await vote_count(pg) == len(acknowledged)
        # ... and the ledger holds no vote whose effect did not commit
        assert await count_rows(pg, ProcessedEvent) == len(acknowledged) + 1  # + the /poll
        for update, status in zip(votes, statuses, strict=True):
            await deliver_until_acknowledged(h, update, status or 500)
        assert await vote_count(pg) == len(votes)
        assert (await h.tally(poll))["options"][0]["votes"] == len(votes)
        await until(lambda: _ready(h), "ready again")


async def _true(value: bool) -> bool:
    return value


async def _ready(h: Harness) -> bool:
    return await probe(h, "/readyz") == 200
