"""A malformed interaction from the gateway is ignored; the Discord client stays connected."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from typing import Any

import pytest

from storage.db import Database
from tests.drivers.discord_kit import Harness, discord_settings, town_guild
from tests.fakes.discord import FakeDiscord, FakeUser
from tests.fuzz import Findings, check, watched_log

pytestmark = pytest.mark.timeout(60)
ZELDA = FakeUser(id=810_000_000_000_009_731, username="zelda", global_name="Zelda")


@pytest.fixture
async def harness(db_url: str, db: Database) -> AsyncIterator[Harness]:
    async with FakeDiscord(guilds=[town_guild()], patch_discord_py=False) as fake:
        h = Harness(fake, discord_settings(db_url, fake), db)
        await h.start()
        try:
            yield h
        finally:
            await h.stop()


def broken(payload: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    copied = copy.deepcopy(payload)
    copied[key] = value
    return copied


async def test_a_malformed_interaction_does_not_end_the_connection(harness: Harness) -> None:
    fake = harness.fake
    with watched_log() as log:
        poll, message = await harness.publish("poll", {"question": "Bins?", "options": "A|B"})
        click = fake.component_click(message, f"vote:{poll}:1", ZELDA)
        for odd in [
            broken(click, "id", None),
            broken(click, "id", "not a number"),
            broken(click, "application_id", {"x": 1}),
            broken(click, "channel_id", [1]),
        ]:
            session = fake._current_session()
            assert session is not None and session.connected
            await fake._send_dispatch(session, "INTERACTION_CREATE", odd)
        async with asyncio.timeout(30):
            done = await harness.click(message, f"vote:{poll}:2", FakeUser(id=7, username="e"))
        assert "recorded" in harness.reply_text(done)
    check(Findings(), log.getvalue(), [str(ZELDA.id), "zelda"])
