"""State several workers share through the database when there is no Redis
(TOWNHALL_SHARED_STATE): the web chat's form limits and private messages, and the outbox's
send budgets. "Two workers" are two instances on two connection pools to one PostgreSQL; the
GCRA and mailbox rules also run on SQLite (it migrates and works, though it defaults to memory).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from sqlalchemy import func, select

from adapters.web import WebChatAdapter
from adapters.web.mailbox import Mailbox
from bot.adapter import SendRates
from bot.config import ConfigError, Settings, load_settings
from bot.events import Target
from bot.mailbox import DatabaseMailbox
from bot.ratelimit import DatabaseRateLimiter, RateLimiter
from bot.sendrate import SendLimiter
from bot.views import Notice
from storage.db import Database
from storage.models import RateLimit, SendWindow, WebMail
from storage.shared import RateLimits
from tests.conftest import BACKENDS, SECRET
from townhall import workers
from townhall.app import Townhall
from townhall.webchat import connect

POSTGRESQL_ONLY = pytest.mark.parametrize(
    "db_url",
    [
        pytest.param(
            "postgresql",
            marks=pytest.mark.skipif(
                "postgresql" not in BACKENDS, reason="TOWNHALL_TEST_DATABASES excludes postgresql"
            ),
        )
    ],
    indirect=True,
)
TELEGRAM = SendRates(
    overall="30/second", per_chat="1/second", per_group="3/minute", group_prefix="-"
)
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/townhall"


@pytest.fixture
async def other(db: Database) -> AsyncIterator[Database]:
    """A second worker's own connection pool to the same database."""
    second = Database(db.url)
    yield second
    await second.dispose()


class Ticks:
    """A clock in epoch seconds that moves only when told."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# -- rate limits ---------------------------------------------------------------------------


async def test_the_database_limiter_answers_as_the_memory_one_does(db: Database) -> None:
    """Same burst, refill and waits as :class:`RateLimiter` (GCRA) on the same clock."""
    ticks = Ticks()
    memory = RateLimiter(3, 3.0, clock=ticks)
    stored = DatabaseRateLimiter(db, 3, 3.0, prefix="test", clock=ticks)
    answers: list[tuple[float | None, float | None]] = []
    for advance in (0, 0, 0, 0, 0.5, 0.5, 0.2, 2.0, 0, 0, 0, 10.0):
        ticks.now += advance
        answers.append((await stored.check("203.0.113.9"), memory.hit("203.0.113.9")))
    for stored_wait, memory_wait in answers:
        assert (stored_wait is None) == (memory_wait is None), answers
        if stored_wait is not None and memory_wait is not None:
            assert stored_wait == pytest.approx(memory_wait, abs=1e-6)
    # a burst of three, then one a second: the fourth waits the interval
    assert [a for a, _ in answers[:5]] == [None, None, None, pytest.approx(1.0), pytest.approx(0.5)]


async def test_the_database_clock_counts_when_no_clock_is_given(db: Database) -> None:
    limiter = DatabaseRateLimiter(db, 2, 60.0, prefix="test")
    assert await limiter.check("a") is None
    assert await limiter.check("a") is None
    wait = await limiter.check("a")
    assert wait is not None and 29 < wait <= 30  # one every 30 s after a burst of two
    assert await limiter.check("b") is None  # another key is not held up


async def test_keys_are_digests_and_expired_rows_are_pruned(db: Database) -> None:
    ticks = Ticks()
    limiter = DatabaseRateLimiter(db, 2, 10.0, prefix="web-client", clock=ticks)
    assert await limiter.check("203.0.113.9") is None
    async with db.transaction() as session:
        [key] = (await session.execute(select(RateLimit.key))).scalars().all()
    assert key.startswith("web-client:") and "203.0.113.9" not in key
    async with db.statement() as session:
        assert await RateLimits(session).prune(ticks.now + 4.0) == 0  # still holding back
        assert await RateLimits(session).prune(ticks.now + 6.0) == 1  # its arrival time passed


@POSTGRESQL_ONLY
async def test_two_workers_meet_one_quota_in_postgresql(db: Database, other: Database) -> None:
    one = DatabaseRateLimiter(db, 2, 60.0, prefix="web-visitor")
    two = DatabaseRateLimiter(other, 2, 60.0, prefix="web-visitor")
    assert await one.check("203.0.113.9 visitor") is None
    assert await two.check("203.0.113.9 visitor") is None
    wait = await one.check("203.0.113.9 visitor")
    assert wait is not None and 0 < wait <= 60
    assert await two.check("203.0.113.10 visitor") is None


@POSTGRESQL_ONLY
async def test_simultaneous_hits_from_two_workers_never_exceed_the_burst(
    db: Database, other: Database
) -> None:
    one = DatabaseRateLimiter(db, 5, 60.0, prefix="web-client")
    two = DatabaseRateLimiter(other, 5, 60.0, prefix="web-client")
    answers = await asyncio.gather(*(lim.check("198.51.100.7") for lim in [one, two] * 10))
    assert sum(1 for a in answers if a is None) == 5


# -- the mailbox ---------------------------------------------------------------------------


@POSTGRESQL_ONLY
async def test_a_message_left_by_one_worker_is_shown_by_another_once(
    db: Database, other: Database
) -> None:
    one, two = DatabaseMailbox(db), DatabaseMailbox(other)
    await one.post("visitor-1", Notice("Your answer was hidden."))
    await two.post("visitor-1", Notice("Second."))
    await one.post("visitor-2", Notice("Someone else's."))
    shown = await two.collect("visitor-1")
    assert [v.text for v in shown if isinstance(v, Notice)] == [
        "Your answer was hidden.",
        "Second.",
    ]
    assert await one.collect("visitor-1") == []  # shown once
    async with db.transaction() as session:
        visitors = (await session.execute(select(WebMail.visitor))).scalars().all()
    assert visitors and all("visitor" not in v for v in visitors)  # digests, not ids


async def test_the_mailbox_keeps_the_newest_few_and_forgets_after_a_while(db: Database) -> None:
    now = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)

    def clock() -> datetime:
        return now

    mailbox = DatabaseMailbox(db, max_each=3, keep=3600, clock=clock)
    for n in range(5):
        await mailbox.post("visitor-1", Notice(f"message {n}"))
    shown = await mailbox.collect("visitor-1")
    assert [v.text for v in shown if isinstance(v, Notice)] == [
        "message 2",
        "message 3",
        "message 4",
    ]
    await mailbox.post("visitor-1", Notice("too late"))
    now += timedelta(seconds=3601)
    assert await mailbox.collect("visitor-1") == []  # expired: not shown, and gone
    # an expired message nobody collects is deleted by a later post (pruned at most every
    # few minutes per process; a new mailbox prunes on its first post)
    await mailbox.post("visitor-2", Notice("left"))
    now += timedelta(seconds=3601)
    await DatabaseMailbox(db, keep=3600, clock=clock).post("visitor-3", Notice("new"))
    async with db.transaction() as session:
        assert (await session.execute(select(func.count(WebMail.id)))).scalar_one() == 1


# -- the outbox's send budgets -------------------------------------------------------------


@POSTGRESQL_ONLY
async def test_the_send_budget_is_a_moving_window_as_in_memory(db: Database) -> None:
    """Discord's "5 per 5 seconds" per channel: five at once, then the sixth waits until the
    first leaves the window, in the database as in ``limits``' memory storage."""
    rates = SendRates(per_chat="5/5seconds")
    for limiter in (SendLimiter(db=db), SendLimiter()):
        for _ in range(5):
            assert await limiter.acquire("discord", rates, Target("9"), max_wait=0) == 0.0
        wait = await limiter.acquire("discord", rates, Target("9"), max_wait=0)
        assert 4.5 < wait <= 5.1
        assert await limiter.acquire("discord", rates, Target("10"), max_wait=0) == 0.0


@POSTGRESQL_ONLY
async def test_workers_share_one_send_budget_in_postgresql(db: Database, other: Database) -> None:
    one, two = SendLimiter(db=db), SendLimiter(db=other)
    assert one.shared and two.shared
    soon = 0.5  # the overall 30/s paces every send by 34 ms, whichever worker sends
    chat = Target("42")
    assert await one.acquire("telegram", TELEGRAM, chat, max_wait=soon) == 0.0
    wait = await two.acquire("telegram", TELEGRAM, chat, max_wait=soon)
    assert 0.5 < wait <= 1.1  # one a second per private chat, whichever worker sends
    assert await two.acquire("telegram", TELEGRAM, Target("43"), max_wait=soon) == 0.0
    # a group of "3/minute": three at once, then the fourth waits; refused counts nothing
    group = Target("-100123")
    for limiter in (one, two, one):
        assert await limiter.acquire("telegram", TELEGRAM, group, max_wait=soon) == 0.0
    first = await one.acquire("telegram", TELEGRAM, group, max_wait=soon)
    again = await two.acquire("telegram", TELEGRAM, group, max_wait=soon)
    assert 50 < again <= first <= 60.1
    async with db.transaction() as session:
        keys = (await session.execute(select(SendWindow.key))).scalars().all()
    assert all(k.startswith("send:telegram:") and "100123" not in k for k in keys)


@POSTGRESQL_ONLY
async def test_simultaneous_sends_from_two_workers_never_overfill_a_window(
    db: Database, other: Database
) -> None:
    one, two = SendLimiter(db=db), SendLimiter(db=other)
    rates = SendRates(per_chat="5/minute")
    waits = await asyncio.gather(
        *(limiter.acquire("test", rates, Target("8"), max_wait=0) for limiter in [one, two] * 10)
    )
    assert sum(1 for wait in waits if wait == 0.0) == 5
    assert all(55 < wait <= 60.1 for wait in waits if wait)


@POSTGRESQL_ONLY
async def test_a_send_within_max_wait_waits_for_its_slot(db: Database) -> None:
    limiter = SendLimiter(db=db)
    rates = SendRates(per_chat="1/second")
    assert await limiter.acquire("test", rates, Target("7"), max_wait=0) == 0.0
    started = asyncio.get_running_loop().time()
    assert await limiter.acquire("test", rates, Target("7"), max_wait=2.0) == 0.0
    assert asyncio.get_running_loop().time() - started >= 0.9


async def test_switched_off_or_without_limits_it_asks_nothing(db: Database) -> None:
    for _ in range(3):
        assert (
            await SendLimiter(db=db, enabled=False).acquire(
                "telegram", TELEGRAM, Target("7"), max_wait=0
            )
            == 0.0
        )
    assert await SendLimiter(db=db).acquire("test", SendRates(), Target("7"), max_wait=0) == 0.0


# -- the setting ---------------------------------------------------------------------------


def settings(**values: object) -> Settings:
    return load_settings(_env_file=None, secret_key=SECRET, **values)


def test_the_setting_resolves_and_refuses_what_cannot_work() -> None:
    assert settings().shared_store == "memory"  # SQLite: one process
    assert settings(database_url=PG_URL).shared_store == "database"
    redis = "redis://127.0.0.1:6379/0"
    assert settings(database_url=PG_URL, redis_url=redis).shared_store == "redis"
    assert settings(database_url=PG_URL, shared_state="memory").shared_store == "memory"
    store = settings(database_url=PG_URL, redis_url=redis, shared_state="database").shared_store
    assert store == "database"
    with pytest.raises(ConfigError, match="TOWNHALL_SHARED_STATE=redis needs TOWNHALL_REDIS_URL"):
        settings(database_url=PG_URL, shared_state="redis")
    with pytest.raises(ConfigError, match="TOWNHALL_SHARED_STATE=database needs PostgreSQL"):
        settings(shared_state="database")
    with pytest.raises(ConfigError, match="TOWNHALL_SHARED_STATE"):
        settings(shared_state="postgres")


def test_several_workers_are_warned_only_when_each_keeps_its_own() -> None:
    assert workers.caveats(settings(database_url=PG_URL), 2) == []
    [warning] = workers.caveats(settings(database_url=PG_URL, shared_state="memory"), 2)
    assert warning.startswith("2 workers with TOWNHALL_SHARED_STATE=memory")
    assert workers.caveats(settings(database_url=PG_URL, shared_state="memory"), 1) == []


# -- the wiring ----------------------------------------------------------------------------


async def test_the_app_keeps_shared_state_where_the_setting_says(db: Database) -> None:
    for shared_state in ("auto", "memory"):
        config = settings(database_url=db.url, shared_state=shared_state)
        web_chat = WebChatAdapter(config)
        app = Townhall(config, [web_chat], db=db)
        connect(app, web.Application())
        in_database = config.shared_store == "database"
        assert isinstance(web_chat.inbox, DatabaseMailbox if in_database else Mailbox)
        assert isinstance(
            web_chat.limit_visitor, DatabaseRateLimiter if in_database else RateLimiter
        )
        assert (app.deliverer.limiter.db is db) == in_database
        assert in_database == (not db.is_sqlite and shared_state == "auto")


@POSTGRESQL_ONLY
async def test_a_private_message_sent_on_one_worker_is_shown_on_the_other(
    db: Database, other: Database
) -> None:
    """Two web chat adapters wired as two workers' apps wire them: the deliverer of one sends
    a visitor's private message, the page served by the other collects it."""
    config = settings(database_url=db.url)
    adapters = [WebChatAdapter(config), WebChatAdapter(config)]
    for adapter, pool in zip(adapters, (db, other), strict=True):
        connect(Townhall(config, [adapter], db=pool), web.Application())
    await adapters[0].send(Target("visitor-9", private=True), Notice("A moderator hid it."))
    shown = await adapters[1].inbox.collect("visitor-9")
    assert [v.text for v in shown if isinstance(v, Notice)] == ["A moderator hid it."]
    assert await adapters[0].inbox.collect("visitor-9") == []


async def test_the_migration_goes_down_and_up_again(db: Database) -> None:
    """Revision 0019 adds the two tables on both databases, and takes them away again."""
    from alembic import command
    from sqlalchemy import inspect
    from sqlalchemy.engine import Connection

    from storage import migrate

    def down(connection: Connection) -> None:
        command.downgrade(migrate.alembic_config(connection), "0018")

    def tables(connection: Connection) -> set[str]:
        return set(inspect(connection).get_table_names())

    async with db.engine.begin() as conn:
        await conn.run_sync(down)
        assert not {"rate_limits", "web_mail"} & await conn.run_sync(tables)
    assert await migrate.current(db) == "0018"
    await migrate.upgrade(db)
    async with db.engine.connect() as conn:
        assert {"rate_limits", "web_mail"} <= await conn.run_sync(tables)
    assert await DatabaseRateLimiter(db, 1, 1.0, prefix="test").check("a") is None
