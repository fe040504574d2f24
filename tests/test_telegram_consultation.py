"""What only Telegram does for consultations: the deep link ``t.me/<bot>?start=SLUG`` arrives
as ``/start SLUG`` in the private chat, and a plain STOP there stops consultation messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from services import consultations
from services.consultation_file import load_file
from storage.db import Database
from storage.people import ParticipantRepository
from storage.subscriptions import SubscriptionRepository
from tests.conftest import SECRET
from tests.drivers.telegram import IDS, telegram_driver
from tests.support import FakeClock

CONSULTATION = Path(__file__).resolve().parent / "data" / "consultation-12.yaml"

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


async def test_the_deep_link_starts_it_privately_and_stop_stops(
    db: Database, clock: FakeClock
) -> None:
    async with db.transaction() as session:
        plan = load_file(CONSULTATION, now=clock())
        await consultations.load(session, plan, new_version=False, actor="cli", now=clock())
    async with telegram_driver(db, clock) as d:
        await d.officer("publish library-bill")
        told = await d.command("ann", "/start library-bill", private=True)
        assert "We never store your name" in told and "1 of 12" in told
        assert "2 of 12" in await d.tap("ann", "Agree")
        await d.command("ann", "/subscribe libraries", private=True)
        since = d.fake.mark()
        await d.deliver(d.fake.text_update(d.private("ann"), d.users["ann"], "STOP"))
        assert "no more consultation messages" in d.told("ann", since)
        async with db.transaction() as session:
            ann = await ParticipantRepository(session, SECRET).find("telegram", str(IDS["ann"]))
            assert ann is not None
            repo = SubscriptionRepository(session)
            assert await repo.stopped(ann) and await repo.topics_of(ann) == []
        told = await d.command("ann", "/start library-bill", private=True)
        assert "2 of 12" in told and "We never store your name" not in told  # resumed
