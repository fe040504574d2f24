"""Hypothesis-generated Discord interactions through the fake gateway: never a traceback, a
leak, or a client that stops answering."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from storage.db import Database
from tests.drivers.discord_kit import Harness, running_discord
from tests.fakes.discord import FakeUser
from tests.fuzz import SECRET_WORDS, Mutant, examples, fuzzing, mutations

pytestmark = pytest.mark.timeout(240)
ZELDA = FakeUser(id=810_000_000_000_007_319, username="zeldafuzz", global_name="Zelda Fuzz")
CASES = 1200


@pytest.fixture
async def harness(db_url: str, db: Database) -> AsyncIterator[Harness]:
    async with running_discord(db_url, db, strict=False) as h:
        yield h


def encodable(doc: Any) -> bool:
    """Discord's gateway sends UTF-8 text: a lone surrogate (which the fuzzer's odd strings
    include) cannot be in it, so such a case is not something Discord could ever send."""
    try:
        json.dumps(doc, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def bases(h: Harness, poll: str, poll_message: int, ask: str) -> list[dict[str, Any]]:
    fake = h.fake
    from tests.drivers.discord_kit import CHANNEL_ID, GUILD_ID

    return [
        fake.component_click(poll_message, f"vote:{poll}:1", ZELDA),
        fake.slash_command(GUILD_ID, CHANNEL_ID, ZELDA, "townhall", "report", {"ref": "A1"}),
        fake.slash_command(GUILD_ID, CHANNEL_ID, ZELDA, "townhall", "mydata", {}),
    ]


async def test_fuzzed_interactions_are_ignored_and_the_bot_keeps_answering(
    harness: Harness,
) -> None:
    fake = harness.fake
    with fuzzing([str(ZELDA.id), "zeldafuzz", SECRET_WORDS]) as (findings, _log):
        poll, message = await harness.publish("poll", {"question": "Bins?", "options": "A|B"})
        ask, _ = await harness.publish("ask", {"question": "Why?"})
        generated = examples(mutations(bases(harness, poll, message, ask)), CASES)
        cases: list[Mutant] = [case for case in generated if encodable(case.doc)]
        for case in cases:
            findings.cases += 1
            session = fake._current_session()
            assert session is not None and session.connected, f"disconnected before {case!r}"
            await fake._send_dispatch(session, "INTERACTION_CREATE", case.doc)
        # Let the bot work through what it accepted, then prove it still answers.
        await harness.drain()
        try:
            async with asyncio.timeout(60):
                done = await harness.click(message, f"vote:{poll}:2", FakeUser(id=7, username="e"))
            assert "recorded" in harness.reply_text(done)
        except BaseException as exc:
            findings.record(f"the bot stopped answering: {exc!r}")
