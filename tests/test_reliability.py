"""Background loops survive failures; acknowledgement only after a commit; the outbox's
retry policy; erasure of outbox rows. Real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from bot.config import Settings
from bot.errors import DeliveryError
from bot.loops import SupervisedLoop
from storage.db import Database
from storage.ledger import EventLedger
from storage.models import OutboxMessage, ProcessedEvent, Vote
from storage.outbox import OutboxRepository
from tests.support import FakeClock, People, RecordingAdapter, said
from tests.waiting import until
from townhall.app import Townhall

App = tuple[Townhall, RecordingAdapter]
pytestmark = pytest.mark.timeout(60)


async def rows(townhall: Townhall) -> list[OutboxMessage]:
    async with townhall.db.transaction() as session:
        query = select(OutboxMessage).where(OutboxMessage.op == "send").order_by(OutboxMessage.id)
        return list((await session.execute(query)).scalars())


async def create(townhall: Townhall, people: People, command: str) -> str:
    outcome = await townhall.dispatch(people.command("officer", command))
    text = said(outcome.notices)
    assert "Published" in text, text
    return text.split("Published ", 1)[1].split()[1].rstrip(".")


# -- supervised loops ----------------------------------------------------------------------


async def test_a_supervised_loop_survives_failures_and_reports_stuck_and_dead() -> None:
    calls: list[int] = []
    now = [0.0]
    release = asyncio.Event()

    async def step() -> float:
        calls.append(1)
        if len(calls) <= 3:
            raise OSError("database away")
        if len(calls) == 5:
            await release.wait()  # a pass that hangs
        return 0.0

    loop = SupervisedLoop(
        "test", step, min_backoff=0.001, max_backoff=0.01, monotonic=lambda: now[0]
    )
    assert not loop.status().alive  # not started: dead
    loop.start()
    await until(lambda: len(calls) >= 5)
    status = loop.status()
    assert status.alive and not status.stuck and status.failures == 0  # recovered by itself
    now[0] += loop.stuck_after + 1
    assert loop.status().stuck and not loop.status().ok
    release.set()
    await until(lambda: len(calls) >= 6)
    assert loop.status().ok
    await loop.stop()
    assert not loop.status().alive


async def test_the_outbox_keeps_running_after_the_database_failed_between_passes(
    app: App, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: ``_until_next_due`` ran outside the try block, so one failed query ended the
    outbox task for good and no card went out until a restart."""
    townhall, adapter = app
    failures = [OperationalError("SELECT", {}, OSError("connection refused"))] * 3
    original = OutboxRepository.next_due

    async def flaky(self: OutboxRepository, platforms: list[str]) -> object:
        if failures:
            raise failures.pop()
        return await original(self, platforms)

    monkeypatch.setattr(OutboxRepository, "next_due", flaky)
    loop = townhall.deliverer.loop
    loop.min_backoff = loop.max_backoff = 0.01
    loop.start()
    try:
        await until(lambda: not failures)
        await create(townhall, people, 'poll "Still delivering?" "Yes" "No"')
        await until(lambda: len(adapter.cards()) == 1)
        assert loop.status().ok
    finally:
        await loop.stop()


async def test_stop_is_clean_after_a_loop_failed(app: App) -> None:
    townhall, _ = app

    async def broken() -> float:
        raise RuntimeError("bug")

    townhall.scheduler.loop.step = broken
    townhall.scheduler.loop.start()
    await until(lambda: townhall.scheduler.loop.failures > 0)
    await townhall.stop()  # no traceback, no exception


# -- acknowledgement -----------------------------------------------------------------------


OUTAGES = [
    pytest.param(
        lambda: PoolTimeoutError(
            "QueuePool limit of size 2 overflow 0 reached, connection timed out, timeout 1.00"
        ),
        id="pool-timeout",
    ),
    pytest.param(
        lambda: asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        id="starting-up",
    ),
    pytest.param(lambda: ConnectionRefusedError(111, "Connection refused"), id="refused"),
    pytest.param(
        lambda: OperationalError("INSERT", {}, Exception("database is locked")), id="locked"
    ),
    pytest.param(
        lambda: asyncpg.exceptions.LockNotAvailableError("canceling statement: lock timeout"),
        id="lock-timeout",
    ),
]


@pytest.mark.parametrize("outage", OUTAGES)
async def test_a_vote_that_hit_an_outage_is_not_acknowledged_and_counts_on_redelivery(
    app: App, people: People, monkeypatch: pytest.MonkeyPatch, outage: object
) -> None:
    """Regression: connection-acquisition failures were taken for handler bugs: the event id
    was recorded, 200 answered, and the redelivered vote dropped as a duplicate."""
    townhall, _ = app
    poll = await create(townhall, people, 'poll "Q?" "A" "B"')
    original, original_many = EventLedger.claim, EventLedger.claim_many
    fail = [True, True]  # a vote batch that fails is retried once: fail both attempts

    async def claim(self: EventLedger, platform: str, event_id: str, at: object) -> bool:
        if fail:
            fail.clear()
            assert callable(outage)
            raise outage()
        return await original(self, platform, event_id, at)  # type: ignore[arg-type]

    async def claim_many(self: EventLedger, *args: Any) -> set[tuple[str, str]]:
        if fail:
            fail.pop()
            assert callable(outage)
            raise outage()
        return await original_many(self, *args)

    monkeypatch.setattr(EventLedger, "claim", claim)
    monkeypatch.setattr(EventLedger, "claim_many", claim_many)
    vote = people.click("ann", poll, 1, event_id="click-1")
    with pytest.raises(Exception):  # noqa: B017 - the adapter answers non-2xx
        await townhall.dispatch(vote)
    async with townhall.db.transaction() as session:
        ids = (await session.execute(select(ProcessedEvent.event_id))).scalars().all()
        assert "click-1" not in ids  # never recorded without its effect
    outcome = await townhall.dispatch(vote)  # the platform delivers it again
    assert outcome.handled and not outcome.duplicate
    assert (await townhall.dispatch(vote)).duplicate
    async with townhall.db.transaction() as session:
        assert len((await session.execute(select(Vote.id))).scalars().all()) == 1


# -- the outbox's retry policy -------------------------------------------------------------


async def test_rate_limits_cost_no_attempts_and_the_card_arrives_once(
    app: App, people: People, clock: FakeClock
) -> None:
    townhall, adapter = app
    adapter.failures.extend(DeliveryError("flood", retry_after=30) for _ in range(40))
    await create(townhall, people, 'poll "Flooded?" "Yes" "No"')
    for _ in range(40):  # 20 minutes of flood control: far more than the old 12 attempts
        await townhall.deliverer.drain()
        clock.advance(seconds=31)
    await townhall.deliverer.drain()
    [row] = await rows(townhall)
    assert row.status == "sent" and row.attempts == 0
    assert len(adapter.cards()) == 1


async def test_transient_failures_give_up_after_the_configured_time_and_tell_the_publisher(
    app: App, people: People, clock: FakeClock
) -> None:
    townhall, adapter = app
    townhall.deliverer.give_up_after = timedelta(hours=3)
    adapter.failures.extend(DeliveryError("502 Bad Gateway") for _ in range(100))
    await create(townhall, people, 'poll "Down?" "Yes" "No"')
    for _ in range(40):
        await townhall.deliverer.drain()
        clock.advance(minutes=10)
        if (await rows(townhall))[0].status == "failed":
            break
    card = (await rows(townhall))[0]
    assert card.status == "failed" and card.attempts > 12  # not after 12 attempts
    assert card.first_tried_at is not None
    assert clock() - card.first_tried_at >= timedelta(hours=3)
    adapter.failures.clear()
    await townhall.deliverer.drain()
    [notice] = [s for s in adapter.sent if s.target.private]
    assert notice.target.channel_id == "officer"
    assert "could not be delivered" in said([notice.view]) and "Down?" in said([notice.view])

    # The dashboard's Retry: sent once, with a fresh allowance of time.
    async with townhall.db.transaction() as session:
        assert [r.id for r in await OutboxRepository(session).undelivered()] == [card.id]
        assert await OutboxRepository(session).retry(card.id, clock())
    await townhall.deliverer.drain()
    assert [c.title for c in adapter.cards()] == ["Down?"]


async def test_an_uncertain_send_is_never_resent_by_itself(
    app: App, people: People, clock: FakeClock
) -> None:
    townhall, adapter = app
    adapter.failures.append(DeliveryError("timed out", uncertain=True))
    await create(townhall, people, 'poll "Slow?" "Yes" "No"')
    await townhall.deliverer.drain()
    clock.advance(hours=2)
    await townhall.deliverer.drain()
    card, notice = await rows(townhall)
    assert card.status == "uncertain" and adapter.cards() == []
    assert notice.private and "may not have appeared" in str(notice.view)


# -- erasure -------------------------------------------------------------------------------


async def test_forget_erases_outbox_rows_with_the_persons_id_or_answer_refs(
    app: App, people: People, clock: FakeClock
) -> None:
    townhall, _ = app
    async with townhall.db.transaction() as session:
        outbox = OutboxRepository(session)
        view = {
            "type": "notice",
            "text": "A moderator has hidden your answer A1.",
            "confidential": True,
        }
        await outbox.send(platform="test", channel_id="ann", view=view, at=clock(), private=True)
        queue = {"type": "notice", "text": "A1 on “Q”: flagged", "confidential": False}
        await outbox.send(platform="test", channel_id="mods", view=queue, at=clock())
        await outbox.send(
            platform="test",
            channel_id="C9",
            view={"type": "notice", "text": "A12 stays"},
            at=clock(),
        )
        await outbox.send(
            platform="test",
            channel_id="C1",
            view={"type": "notice", "text": "card"},
            at=clock(),
            requested_by="test:ann",
        )
    await townhall.deliverer.drain()  # finished rows are erased too
    poll = await create(townhall, people, 'ask "Q?"')
    await townhall.dispatch(people.submit("ann", poll, "My answer"))
    await townhall.dispatch(people.command("ann", "forget"))
    await townhall.dispatch(people.click_button("ann", "forget", "confirm"))
    remaining = await rows(townhall)
    texts = [str(r.view) for r in remaining]
    assert not any(r.channel_id == "ann" for r in remaining)
    assert not any("A1 " in t or "A1." in t for t in texts)
    assert any("A12 stays" in t for t in texts)  # another answer's ref is not a match
    assert all(r.requested_by != "test:ann" for r in remaining)
    assert any("'card'" in t for t in texts)  # the card they asked for stays, unlinked


async def test_healthz_and_readyz_report_a_dead_loop(settings: Settings, db: Database) -> None:
    import aiohttp

    adapter = RecordingAdapter()
    townhall = Townhall(settings.model_copy(update={"http_port": 0}), [adapter], db=db)
    await townhall.start(serve_http=True, background=True)
    base = f"http://127.0.0.1:{townhall.http_port}"
    try:
        async with aiohttp.ClientSession(base_url=base) as http:
            async with http.get("/healthz") as r:
                assert r.status == 200 and (await r.json())["loops"]["outbox"]["alive"]
            async with http.get("/readyz") as r:
                body = await r.json()
                assert r.status == 200 and body["adapters"] == {"test": True}
            await townhall.deliverer.loop.stop()  # as if the task had died
            async with http.get("/healthz") as r:
                body = await r.json()
                assert r.status == 503 and body["loops"]["outbox"]["alive"] is False
            async with http.get("/readyz") as r:
                assert r.status == 503 and (await r.json())["status"] == "not ready"
    finally:
        await townhall.stop()


@pytest.mark.parametrize("idempotent", [False, True])
async def test_a_send_cut_short_by_a_crash_is_not_repeated_blindly(
    app: App, people: People, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, idempotent: bool
) -> None:
    """The process dies while a card is being posted: once the lease ends, a platform without
    idempotent sends (Telegram) gets no second copy; one with them (Discord's nonce) does."""
    from dataclasses import replace

    townhall, adapter = app
    adapter.capabilities = replace(adapter.capabilities, idempotent_sends=idempotent)
    real_send = adapter.send

    async def dies(*_args: object, **_kw: object) -> None:
        raise asyncio.CancelledError  # the worker is gone mid-call

    await townhall.dispatch(people.command("officer", 'poll "Crashed?" "Yes" "No"'))
    monkeypatch.setattr(adapter, "send", dies)
    with pytest.raises(asyncio.CancelledError):
        await townhall.deliverer.run_once()
    monkeypatch.setattr(adapter, "send", real_send)
    clock.advance(minutes=2)  # the lease ran out
    await townhall.deliverer.drain()
    card = (await rows(townhall))[0]
    if idempotent:
        assert card.status == "sent" and [c.title for c in adapter.cards()] == ["Crashed?"]
    else:
        assert card.status == "uncertain" and adapter.cards() == []
        assert "may not have appeared" in said([adapter.sent[-1].view])
