"""Privacy on Slack, end to end through the real slack-bolt: what is Slack's own (a long copy
of someone's data in parts that fit Block Kit, explicit consent as an ephemeral in the thread
and inside the answer modal). mydata, forget and consent given or declined are in
test_scenarios.py. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services import exports
from storage.db import Database
from storage.items import ItemRepository
from storage.models import PendingAction
from tests.drivers.slack_moderation_kit import (
    ASK,
    CHANNEL,
    Mod,
    block_text,
    buttons,
    ref_in,
    running,
)
from tests.support import FakeClock

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def slack(db_url: str, db: Database, clock: FakeClock) -> AsyncIterator[Mod]:
    async with running(db_url, db, clock) as harness:
        yield harness


@pytest.fixture
async def explicit(db_url: str, db: Database, clock: FakeClock) -> AsyncIterator[Mod]:
    async with running(db_url, db, clock, consent="explicit") as harness:
        yield harness


async def export_rows(slack: Mod, short_id: str) -> list[dict[str, str]]:
    async with slack.app.db.transaction() as session:
        item = await ItemRepository(session).by_short_id(short_id)
        assert item is not None
        return await exports.rows(session, item, include_hidden=True)


async def test_a_long_mydata_copy_is_shown_whole(slack: Mod) -> None:
    _, card = await slack.publish(ASK)
    written = [f"Idea {n}:" + " more trees and benches along the river path" * 5 for n in range(8)]
    for text in written:
        await slack.reply("U0ANN", card, text)
    parts = await slack.private("U0ANN", "mydata")
    shown = "".join(block_text(part) for part in parts)
    assert len(shown) > 3000 and "(1/2)" in shown  # long copies come in parts, never cut
    for text in written:
        assert text in shown


async def test_explicit_consent_before_a_first_thread_answer(explicit: Mod) -> None:
    slack = explicit
    question, card = await slack.publish(ASK)
    reply = await slack.reply("U0ANN", card, "Longer opening hours at the pool")
    (consent,) = slack.fake.ephemerals_for("U0ANN", CHANNEL)
    assert consent["thread_ts"] == card["ts"]
    assert "Before we record your answer" in block_text(consent)
    assert [(b["text"]["text"], b["action_id"]) for b in buttons(consent)] == [
        ("I agree", "consent:yes"),
        ("No thanks", "consent:no"),
    ]
    assert (await slack.tally(question, include_hidden=True))["responses"] == 0
    assert await slack.answers() == []
    assert await slack.count(PendingAction) == 1

    agreed = await slack.click("U0ANN", consent, "consent:yes")
    assert agreed["text"].startswith("Thanks, your answer is recorded")
    assert buttons(agreed) == []
    assert await slack.visible_texts(question) == ["Longer opening hours at the pool"]
    (stored,) = await slack.answers()
    assert (stored.channel_id, stored.message_id) == (CHANNEL, reply["ts"])  # reportable
    assert await slack.count(PendingAction) == 0

    await slack.reply("U0ANN", card, "And a sauna")
    said = slack.fake.ephemerals_for("U0ANN", CHANNEL)[-1]
    assert said["text"].startswith("Thanks, your answer is recorded") and not buttons(said)


async def test_explicit_consent_inside_the_answer_modal(explicit: Mod) -> None:
    slack = explicit
    question, card = await slack.publish(ASK)
    modal = await slack.modal_answer("U0ANN", card, "A skate park")
    assert "Before we record your answer" in block_text(modal)
    assert [b["action_id"] for b in buttons(modal)] == ["consent:yes", "consent:no"]
    assert await slack.answers() == []

    clicked = await slack.client.view_block_action("U0ANN", modal["id"], "consent:yes")
    assert (clicked.status, clicked.body) == (200, "")
    await slack.adapter.settle()
    assert await slack.visible_texts(question) == ["A skate park"]
    (stored,) = await slack.answers()
    assert stored.channel_id == CHANNEL
    # the modal the person is looking at now says so, and its buttons are gone
    shown = slack.fake.view(modal["id"])
    assert ref_in(block_text(shown)) == f"A{stored.id}"
    assert "your answer is recorded" in block_text(shown) and buttons(shown) == []
