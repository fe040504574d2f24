"""Channel names: asked of each platform when an item is published, shown by the dashboard.

Each platform names a channel through its own API (Telegram getChat, Slack
conversations.info, Discord GET /channels/{id}); when it cannot say, the item is still
published and the dashboard falls back to the id.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.adapter import ask_channel_name
from bot.config import Settings
from bot.errors import DeliveryError
from bot.events import Target
from storage.db import Database
from storage.models import Publication
from tests.dashboard_support import DashApp, plain, start_dashboard
from tests.drivers.discord_kit import (
    CHANNEL_ID,
    OFFICER,
    Harness,
    running_discord,
)
from tests.drivers.slack_kit import CHANNEL
from tests.drivers.slack_moderation_kit import running as slack_running
from tests.drivers.telegram_kit import (  # noqa: F401 - fake_telegram is a fixture
    OFFICER_ID,
    fake_telegram,
)
from tests.drivers.telegram_kit import running as telegram_running
from tests.fakes.telegram import FakeTelegram
from tests.support import FakeClock, RecordingAdapter, publish
from townhall.app import Townhall

pytestmark = pytest.mark.timeout(90)
CHANNEL_OF_PEOPLE = "C1"  # where tests.support.People publish


async def names(db: Database) -> list[tuple[str, str, str | None]]:
    async with db.transaction() as session:
        rows = await session.execute(select(Publication).order_by(Publication.id))
        return [(p.platform, p.channel_id, p.channel_name) for p in rows.scalars()]


async def test_telegram_names_the_group_by_its_title(
    fake: FakeTelegram,
    db: Database,
    clock: FakeClock,
) -> None:
    group = fake.group(-1001000000077, "Town square")
    officer = fake.user(OFFICER_ID, "Olivia")
    async with telegram_running(fake, db, clock) as h:
        await h.publish(group, officer, '/poll "Free parking?" "Yes" "No"')
        await h.settle()
    assert await names(db) == [("telegram", str(group["id"]), "Town square")]
    assert fake.calls_to("getChat")


async def test_slack_names_the_channel_with_a_hash(
    db_url: str, db: Database, clock: FakeClock
) -> None:
    async with slack_running(db_url, db, clock) as mod:
        mod.fake.add_channel(CHANNEL, name="consultations")
        await mod.publish('poll "Free parking?" "Yes" "No"')
        assert await mod.adapter.channel_name(Target("U0NOBODY", private=True)) is None
    assert await names(db) == [("slack", CHANNEL, "#consultations")]


async def test_slack_unknown_channel_has_no_name(
    db_url: str, db: Database, clock: FakeClock
) -> None:
    async with slack_running(
        db_url,
        db,
        clock,
    ) as mod:
        mod.fake.auto_create_channels = False
        assert await ask_channel_name(mod.adapter, Target("C0GONE")) is None


@pytest.fixture
async def discord(db_url: str, db: Database) -> AsyncIterator[Harness]:
    async with running_discord(db_url, db, strict=False) as h:
        yield h


async def test_discord_names_the_channel_and_falls_back_for_unknown_ones(
    discord: Harness, db: Database
) -> None:
    await discord.slash(OFFICER, "scale", {"statement": "Parks need more bins."})
    await discord.drain()
    assert await names(db) == [("discord", str(CHANNEL_ID), "#consultations")]
    assert discord.adapter is not None
    assert await ask_channel_name(discord.adapter, Target("999")) is None  # 404 Unknown Channel


async def test_a_platform_that_cannot_say_still_publishes(
    app: tuple[Townhall, RecordingAdapter], db: Database
) -> None:
    townhall, adapter = app

    async def broken(target: Target) -> str | None:
        raise DeliveryError("conversations.info: missing_scope")

    adapter.channel_name = broken  # type: ignore[method-assign]
    await publish(townhall, 'poll "Free parking?" "Yes" "No"')
    assert len(adapter.cards()) == 1
    ((_, _, name),) = await names(db)
    assert name is None


@pytest.fixture
async def dash(settings: Settings, db: Database, clock: FakeClock) -> AsyncIterator[DashApp]:
    async for running in start_dashboard(settings, db, clock):
        yield running


async def test_the_dashboard_shows_names_and_keeps_ids_at_hand(dash: DashApp) -> None:
    dash.running.test.channel_names[CHANNEL_OF_PEOPLE] = "#town-square"
    named = await dash.create('poll "Free parking?" "Yes" "No"')
    officer = await dash.sign_in("policy")
    listing = (await officer.get("/items")).text
    assert f'title="Channel id {CHANNEL_OF_PEOPLE}">Test: #town-square</li>' in listing
    assert f"Test: {CHANNEL_OF_PEOPLE}<" not in listing
    item = plain((await officer.get(f"/items/{named}")).text)
    assert f"Test: #town-square (id {CHANNEL_OF_PEOPLE})" in item
    form = (await officer.get("/items/new")).text
    assert "Test: #town-square</option>" in form
