"""A malformed interaction from the gateway is ignored; the Discord client stays connected."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from typing import Any

import pytest

from storage.db import Database
from tests.drivers.discord_kit import Harness, running_discord
from tests.fakes.discord import FakeUser
from tests.fuzz import fuzzing

pytestmark = pytest.mark.timeout(60)
ZELDA = FakeUser(id=810_000_000_000_009_731, username="zelda", global_name="Zelda")


@pytest.fixture
async def harness(db_url: str, db: Database) -> AsyncIterator[Harness]:
    async with running_discord(db_url, db, strict=False) as h:
        yield h


def broken(payload: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    copied = copy.deepcopy(payload)
    copied[key] = value
    return copied


async def test_a_malformed_interaction_does_not_end_the_connection(harness: Harness) -> None:
    fake = harness.fake
    with fuzzing([str(ZELDA.id), "zelda"]):
        poll, message = await harness.publish("poll", {"question": "Bins?", "options": "A|B"})
        click = fake.component_click(message, f"vote:{poll}:1", ZELDA)
        command = fake.slash_command(None, None, ZELDA, "townhall", "mydata", {})
        # found by the fuzzer: a command type discord.py has no name for
        unknown_type = {**command, "data": {**command["data"], "type": 2**63}}
        # and a click whose message has lost its components (discord.py rebuilds the view)
        bare = {
            **click,
            "message": {k: v for k, v in click["message"].items() if k != "components"},
        }
        for odd in [
            unknown_type,
            bare,
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
