"""The grouped write path: clicks that arrive together share one transaction (issue 16)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from bot.adapter import Outcome
from bot.batcher import Batch, BatchHandler
from bot.errors import DeliveryError
from bot.views import Card
from storage.models import OutboxMessage, ProcessedEvent, Vote
from tests.support import FakeClock, People, RecordingAdapter, said
from tests.test_handlers import create, tally
from tests.test_tallies import mismatches
from townhall.app import Townhall

App = tuple[Townhall, RecordingAdapter]


def batch_sizes(townhall: Townhall) -> list[int]:
    sizes: list[int] = []
    townhall.batcher.on_batch = lambda size, _seconds: sizes.append(size)
    return sizes


async def rows(townhall: Townhall, model: type) -> int:
    async with townhall.db.transaction() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_a_burst_is_one_batch_resolved_in_arrival_order(app: App, people: People) -> None:
    townhall, _ = app
    poll = await create(townhall, people, 'poll "Sundays?" "Yes" "No"')
    multi = await create(townhall, people, 'poll "Days?" "Mon" "Tue" --multi')
    first = people.click("bob", poll, 2)
    await townhall.dispatch(first)
    sizes = batch_sizes(townhall)
    burst = [
        people.click("ann", poll, 1),
        people.click("ann", poll, 2),
        people.click("ann", poll, 2),
        people.click("cat", multi, 1),
        people.click("cat", multi, 2),
        people.click("cat", multi, 1),
        first,  # a redelivery of a vote recorded before
        people.click("dan", poll, 1, event_id="same-event"),
        people.click("dan", poll, 2, event_id="same-event"),  # the same event twice in a batch
        people.click("eve", poll, 9),  # no such option: the ordinary path's reply
        people.click("bob", poll, 1),
    ]
    outcomes = await asyncio.gather(*(townhall.dispatch(e) for e in burst))
    replies = [said(o.notices) for o in outcomes]
    assert replies[0].startswith("Thanks, your vote for “Yes” is recorded.")
    assert replies[1] == "Your vote is now “No”."  # the privacy notice came with the first
    assert replies[2] == "You have already chosen “No”."
    assert replies[3].startswith("Added “Mon” to your choices.")
    assert replies[4:6] == ["Added “Tue” to your choices.", "Removed “Mon” from your choices."]
    assert outcomes[6].duplicate and outcomes[8].duplicate
    assert replies[7].startswith("Thanks, your vote for “Yes” is recorded.")
    assert replies[9] == f"That option does not exist: {poll} has options 1 to 2."
    assert replies[10] == "Your vote is now “Yes”."
    assert sizes[0] == len(burst)  # one transaction for the burst (the bad option then alone)
    single = await tally(townhall, poll)
    assert [o["votes"] for o in single["options"]] == [2, 1]  # type: ignore[index]
    assert single["participants"] == 3
    several = await tally(townhall, multi)
    assert [o["votes"] for o in several["options"]] == [0, 1]  # type: ignore[index]
    assert await rows(townhall, Vote) == 4
    assert await mismatches(townhall) == []


async def test_first_votes_waiting_for_consent_take_the_ordinary_path(
    app: App, people: People
) -> None:
    townhall, _ = app
    poll = await create(townhall, people, 'poll "Sundays?" "Yes" "No"')
    await townhall.dispatch(people.click("bob", poll, 1))  # bob consents by voting (notice)
    townhall.settings.consent = "explicit"
    ann, bob = await asyncio.gather(
        townhall.dispatch(people.click("ann", poll, 1)),
        townhall.dispatch(people.click("bob", poll, 2)),
    )
    assert isinstance(ann.notices[0], Card)
    assert ann.notices[0].title == "Before we record your vote"
    assert said(bob.notices) == "Your vote is now “No”."
    agreed = await townhall.dispatch(people.click_button("ann", "consent", "yes"))
    assert "your vote for “Yes” is recorded" in said(agreed.notices)
    assert [o["votes"] for o in (await tally(townhall, poll))["options"]] == [1, 1]  # type: ignore[index]


def failing(handler: BatchHandler, times: int) -> tuple[BatchHandler, Callable[[], int]]:
    """The real batch handler, then an outage before the commit, ``times`` times."""
    calls = 0

    async def run(batch: Batch) -> list[Outcome | None]:
        nonlocal calls
        calls += 1
        outcomes = await handler(batch)
        if calls <= times:
            raise OperationalError("COMMIT", {}, ConnectionResetError("connection lost"))
        return outcomes

    return run, lambda: calls


async def test_an_outage_is_retried_once_then_nothing_is_recorded(app: App, people: People) -> None:
    townhall, _ = app
    poll = await create(townhall, people, 'poll "Sundays?" "Yes" "No"')
    real = townhall.batcher.handler
    townhall.batcher.handler, calls = failing(real, times=1)
    outcome = await townhall.dispatch(people.click("ann", poll, 1))
    assert said(outcome.notices).startswith("Thanks, your vote for “Yes” is recorded.")
    assert calls() == 2 and await rows(townhall, Vote) == 1

    townhall.batcher.handler, calls = failing(real, times=2)
    clicks = [people.click(who, poll, 2) for who in ("bob", "cat", "dan")]
    results = await asyncio.gather(*(townhall.dispatch(c) for c in clicks), return_exceptions=True)
    assert all(isinstance(r, OperationalError) for r in results)
    assert calls() == 2
    assert await rows(townhall, Vote) == 1  # nothing of the failed batch was recorded
    assert await rows(townhall, ProcessedEvent) == 2  # the poll command and ann's vote
    townhall.batcher.handler = real
    again = await asyncio.gather(*(townhall.dispatch(c) for c in clicks))  # redelivered
    assert all(not o.duplicate for o in again)
    assert [o["votes"] for o in (await tally(townhall, poll))["options"]] == [1, 3]  # type: ignore[index]
    assert await mismatches(townhall) == []


@pytest.mark.parametrize("consent", ["notice", "explicit"])
async def test_redelivered_clicks_count_once(app: App, people: People, consent: str) -> None:
    townhall, _ = app
    poll = await create(townhall, people, 'poll "Sundays?" "Yes" "No"')
    townhall.settings.consent = consent
    clicks = [people.click(f"p{n}", poll, 1 + n % 2) for n in range(20)]
    await asyncio.gather(*(townhall.dispatch(c) for c in clicks))
    await asyncio.gather(*(townhall.dispatch(c) for c in clicks))
    expected = 0 if consent == "explicit" else 20  # explicit: all held, waiting for consent
    assert await rows(townhall, Vote) == expected
    assert await mismatches(townhall) == []
    exposed = townhall.metrics.render().decode()
    batches = re.search(r"^townhall_vote_batch_size_count (\S+)$", exposed, re.MULTILINE)
    assert batches is not None and 1 <= float(batches.group(1)) < 40  # batches, not clicks


async def pending_refreshes(townhall: Townhall) -> list[tuple[int | None, datetime]]:
    async with townhall.db.transaction() as session:
        query = select(OutboxMessage.publication_id, OutboxMessage.due_at).where(
            OutboxMessage.op == "refresh", OutboxMessage.status == "pending"
        )
        return [(pub, due) for pub, due in (await session.execute(query)).all()]


async def test_a_batch_asks_for_one_refresh_per_card_coalesced(
    app: App, people: People, clock: FakeClock
) -> None:
    """A batch requests the card refreshes of every item it changed in one statement; later
    batches coalesce into the pending request (never pushed later, brought forward)."""
    townhall, adapter = app
    townhall.settings.refresh_interval = 2.0
    poll = await create(townhall, people, 'poll "Q?" "A" "B"')
    other = await create(townhall, people, 'poll "R?" "C" "D"')
    await townhall.deliverer.drain()
    start = clock()
    burst = [people.click(f"p{n}", poll if n % 3 else other, 1 + n % 2) for n in range(12)]
    await asyncio.gather(*(townhall.dispatch(e) for e in burst))
    first = await pending_refreshes(townhall)
    assert sorted(due for _, due in first) == [start + timedelta(seconds=2)] * 2
    assert len({pub for pub, _ in first}) == 2  # one per card

    clock.advance(seconds=1)
    await townhall.dispatch(people.click("late", poll, 1))
    assert await pending_refreshes(townhall) == first  # not pushed later

    townhall.settings.refresh_interval = 0.0
    await townhall.dispatch(people.click("later", poll, 2))
    brought = dict(await pending_refreshes(townhall))
    assert sorted(brought.values()) == [clock(), start + timedelta(seconds=2)]

    await townhall.deliverer.drain()
    assert len(adapter.sent[0].edits) == 1  # the first card, due now
    bars = adapter.sent[0].current.bars  # type: ignore[union-attr]
    assert [b.votes for b in bars] == [5, 5]
    clock.advance(seconds=1)
    await townhall.deliverer.drain()
    assert await pending_refreshes(townhall) == []
    assert [b.votes for b in adapter.sent[1].current.bars] == [2, 2]  # type: ignore[union-attr]


def metric(exposed: str, name: str) -> float:
    found = re.search(rf"^{re.escape(name)} (\S+)$", exposed, re.MULTILINE)
    assert found is not None, name
    return float(found.group(1))


async def test_metrics_show_acks_batches_commits_the_outbox_and_platform_errors(
    app: App, people: People, clock: FakeClock
) -> None:
    townhall, adapter = app
    poll = await create(townhall, people, 'poll "Q?" "A" "B"')
    await townhall.deliverer.drain()
    clicks = [people.click(f"p{n}", poll, 1 + n % 2) for n in range(10)]
    await asyncio.gather(*(townhall.dispatch(c) for c in clicks))
    clock.advance(seconds=30)
    exposed = (await townhall.metrics.scrape()).decode()
    acks = 'townhall_ack_seconds_count{kind="action",platform="test"}'
    assert metric(exposed, acks) == 10
    assert metric(exposed, "townhall_vote_batch_commit_seconds_count") >= 1
    assert metric(exposed, "townhall_vote_batch_size_sum") == 10
    assert metric(exposed, "townhall_outbox_pending") == 1  # the card's refresh
    assert metric(exposed, "townhall_outbox_oldest_pending_seconds") >= 30

    adapter.failures.append(DeliveryError("gone", permanent=True, code="channel_not_found"))
    await townhall.deliverer.drain()
    exposed = (await townhall.metrics.scrape()).decode()
    errors = 'townhall_platform_errors_total{code="channel_not_found",platform="test"}'
    assert metric(exposed, errors) == 1
    assert metric(exposed, "townhall_outbox_pending") == 0
    assert metric(exposed, "townhall_outbox_oldest_pending_seconds") == 0


async def test_a_burst_asks_for_a_cards_refresh_once_per_interval(
    app: App, people: People, clock: FakeClock
) -> None:
    """Batch after batch on one card, the refresh is requested again only when the pending
    one is about to run; every vote still reaches the card."""
    townhall, adapter = app
    townhall.settings.refresh_interval = 2.0
    poll = await create(townhall, people, 'poll "Q?" "A" "B"')
    await townhall.deliverer.drain()
    requests: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().startswith("INSERT INTO outbox") and "publications" in statement:
            requests.append(statement)

    engine = townhall.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        for n in range(5):  # one batch each
            await townhall.dispatch(people.click(f"a{n}", poll, 1))
        assert len(requests) == 1
        clock.advance(seconds=1.6)  # the pending refresh runs in 0.4 s: too close to trust
        await townhall.dispatch(people.click("b", poll, 2))
        assert len(requests) == 2
        clock.advance(seconds=0.5)
        await townhall.deliverer.drain()
        assert [b.votes for b in adapter.sent[0].current.bars] == [5, 1]  # type: ignore[union-attr]
        await townhall.dispatch(people.click("c", poll, 2))  # the refresh ran: ask again
        await townhall.dispatch(people.click("d", poll, 2))
        assert len(requests) == 3
    finally:
        event.remove(engine, "before_cursor_execute", count)
    clock.advance(seconds=2)
    await townhall.deliverer.drain()
    assert [b.votes for b in adapter.sent[0].current.bars] == [5, 3]  # type: ignore[union-attr]
