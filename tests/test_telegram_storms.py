"""429, 5xx and slow-answer storms from the Bot API: every card arrives once the storm ends,
none twice (through the real python-telegram-bot against the fake)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from storage.db import Database
from storage.models import OutboxMessage
from tests.drivers.telegram_kit import (  # noqa: F401 - fake_telegram is a fixture
    OFFICER_ID,
    QUIET_RETRY_AFTER,
    Harness,
    fake_telegram,
    running,
    telegram_settings,
)
from tests.fakes.telegram import JSON, FakeTelegram
from tests.support import FakeClock

pytestmark = [pytest.mark.timeout(90), QUIET_RETRY_AFTER]

CARDS = 5


def is_card(params: dict[str, object]) -> bool:
    return "reply_markup" in params and "Choose one option" in str(params.get("text", ""))


async def publish_all(h: Harness, group: JSON, officer: JSON) -> None:
    for n in range(CARDS):
        await h.command(group, officer, f'/poll "Storm {n}?" "Yes" "No"')


def cards_in(fake: FakeTelegram, group: JSON) -> list[str]:
    return [
        m["text"].split("\n", 1)[0]
        for m in fake.sent_messages(group["id"])
        if m["text"].startswith("Storm") and "reply_markup" in m
    ]


async def statuses(db: Database) -> list[str]:
    async with db.transaction() as session:
        query = select(OutboxMessage.status).where(
            OutboxMessage.op == "send", OutboxMessage.publication_id.is_not(None)
        )
        return sorted((await session.execute(query)).scalars())


async def ride_out(h: Harness, step: timedelta, passes: int = 60) -> None:
    """Deliver what is due, let time pass, again: the storm ends on the fake's side."""
    for _ in range(passes):
        await h.app.deliverer.drain(within=30)
        h.clock.advance(seconds=step.total_seconds())
    await h.app.deliverer.drain(within=30)


@pytest.mark.parametrize("status", [429, 502])
async def test_a_storm_of_errors_delays_cards_and_delivers_each_once(
    fake: FakeTelegram, db: Database, clock: FakeClock, status: int
) -> None:
    group = fake.group(-1001000000095, "Town square")
    officer = fake.user(OFFICER_ID, "Olivia")
    # Hours of simulated time pass in a second of real time: the fake's 429s are the storm,
    # not our own pacing (which counts real seconds).
    settings = telegram_settings(db.url, outbox_rate_limits=False)
    async with running(fake, db, clock, settings=settings) as h:
        fake.fail_next("sendMessage", status=status, retry_after=20, count=30, predicate=is_card)
        await publish_all(h, group, officer)
        await h.app.deliverer.drain()
        assert cards_in(fake, group) == []  # the storm is on
        await ride_out(h, timedelta(minutes=5))
        assert sorted(cards_in(fake, group)) == [f"Storm {n}?" for n in range(CARDS)]
        assert await statuses(db) == ["sent"] * CARDS


async def test_a_slow_bot_api_never_gets_the_same_card_twice(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    """sendMessage takes effect but answers after our timeout: the card is there once and the
    row is 'uncertain' (the publisher is told), not resent on the next pass."""
    group = fake.group(-1001000000096, "Town square")
    officer = fake.user(OFFICER_ID, "Olivia")
    fake.private_chat(officer)
    async with running(fake, db, clock, send_timeout=0.3) as h:
        await publish_all(h, group, officer)
        fake.slow_next("sendMessage", 1.0, count=2)
        await ride_out(h, timedelta(minutes=5), passes=5)
        shown = cards_in(fake, group)
        assert sorted(shown) == [f"Storm {n}?" for n in range(CARDS)]  # each exactly once
        assert await statuses(db) == ["sent"] * (CARDS - 2) + ["uncertain"] * 2
        told = [m["text"] for m in fake.sent_messages(OFFICER_ID) if "may not have" in m["text"]]
        assert len(told) == 2
