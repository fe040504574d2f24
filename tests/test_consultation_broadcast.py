"""Publishing a consultation sends its card privately to every subscriber of its topics through
the durable outbox: against the fake Telegram answering some sends with 429 retry_after, and
with Townhall restarted half way, each of 1,000 subscribers gets it exactly once."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from services import consultations
from services.consultation_file import load_file
from storage.db import Database
from storage.outbox import OutboxRepository
from storage.people import ParticipantRepository
from storage.subscriptions import SubscriptionRepository
from tests.conftest import SECRET
from tests.drivers.telegram_kit import OFFICER_ID, running, telegram_settings
from tests.fakes.telegram import FakeTelegram
from tests.support import FakeClock

pytestmark = pytest.mark.timeout(300)

CONSULTATION = Path(__file__).resolve().parent / "data" / "consultation-12.yaml"
SUBSCRIBERS = 1000
FIRST_ID = 500_000
#: One subscriber in seven is refused with 429 (retry_after 1 s) on the first try.
EVERY = 7


async def _subscribe_many(db: Database, clock: FakeClock, fake: FakeTelegram) -> list[int]:
    ids = [FIRST_ID + n for n in range(SUBSCRIBERS)]
    async with db.transaction() as session:
        people = ParticipantRepository(session, SECRET)
        subscriptions = SubscriptionRepository(session)
        for uid in ids:
            fake.private_chat(fake.user(uid, f"Citizen {uid}"))
            person = await people.ensure("telegram", str(uid), clock())
            await subscriptions.subscribe(person, "libraries", clock())
        now = clock()
        plan = load_file(CONSULTATION, now=now)
        await consultations.load(session, plan, new_version=False, actor="cli", now=now)
    return ids


async def _pending(db: Database) -> int:
    async with db.transaction() as session:
        return len(await OutboxRepository(session).pending("telegram"))


async def test_a_thousand_subscribers_each_get_the_card_once_across_a_restart(
    db: Database, clock: FakeClock
) -> None:
    settings = telegram_settings(db.url, refresh_interval=0)
    async with FakeTelegram(
        token="123456:TEST-fake-token", bot_username="townhall_test_bot"
    ) as fake:
        ids = await _subscribe_many(db, clock, fake)
        group = fake.group(-1001000000777, "Libraries")
        officer = fake.user(OFFICER_ID, "Officer")
        refused = sum(1 for uid in ids if uid % EVERY == 0)
        fake.fail_next(
            "sendMessage",
            429,
            retry_after=1,
            count=refused,
            predicate=lambda params: int(params.get("chat_id", 0)) % EVERY == 0,
        )
        async with running(fake, db, clock, webhook=True, settings=settings) as first:
            call = await first.command(group, officer, "/publish library-bill")
            assert "sent to 1000 subscribers" in str(call.params.get("text", "")), call.params
            handled = 0
            while handled < SUBSCRIBERS // 2:  # half way through the first pass ...
                handled += await first.app.deliverer.run_once()
        # ... Townhall stops (a deploy) and starts again on the same database
        assert 0 < await _pending(db) < SUBSCRIBERS
        async with running(fake, db, clock, webhook=True, settings=settings) as second:
            for _ in range(20):
                while await second.app.deliverer.run_once():
                    pass
                if not await _pending(db):
                    break
                clock.advance(seconds=2)  # the 429s' retry_after has passed
        assert await _pending(db) == 0

    delivered = Counter(
        int(c.params["chat_id"])
        for c in fake.calls_to("sendMessage")
        if c.ok and int(c.params["chat_id"]) >= FIRST_ID
    )
    assert set(delivered) == set(ids)
    assert set(delivered.values()) == {1}  # every one once: none lost, none twice
    refusals = [c for c in fake.calls_to("sendMessage") if not c.ok]
    assert len(refusals) == refused and {c.status for c in refusals} == {429}
    first_card = next(
        c for c in fake.calls_to("sendMessage") if c.ok and c.params["chat_id"] == ids[0]
    )
    assert "Draft Libraries Bill" in str(first_card.params.get("text", ""))
