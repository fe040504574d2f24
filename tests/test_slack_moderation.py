"""Moderation on Slack, end to end through the real slack-bolt: what is Slack's own (the
queue as ephemeral cards, each replaced when decided, five per page; hiding with a direct
message to the author). The story every platform shares (held answers, reports through the
message shortcut, redaction, lazy moderation, refusals) is in test_scenarios.py. SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from storage.db import Database
from tests.drivers.slack_moderation_kit import (
    ASK,
    CHANNEL,
    MODERATOR,
    Mod,
    block_text,
    buttons,
    ref_in,
    running,
)
from tests.support import FakeClock

pytestmark = pytest.mark.timeout(60)

DECISIONS = ("Approve", "Hide", "Redact", "Escalate")


@pytest.fixture
async def slack(db_url: str, db: Database, clock: FakeClock) -> AsyncIterator[Mod]:
    async with running(db_url, db, clock) as harness:
        yield harness


def with_button(messages: list[dict[str, Any]], action_id: str) -> dict[str, Any]:
    """The one private message that carries the button ``action_id``."""
    (found,) = [m for m in messages if action_id in [b["action_id"] for b in buttons(m)]]
    return found


async def queue(slack: Mod) -> list[dict[str, Any]]:
    """The moderator runs ``/townhall flagged``; nothing of it may be posted publicly."""
    await slack.app.deliverer.drain()
    posted = len(slack.fake.calls_to("chat.postMessage"))
    messages = await slack.private(MODERATOR, "flagged")
    await slack.app.deliverer.drain()
    assert len(slack.fake.calls_to("chat.postMessage")) == posted
    return messages


async def test_held_answers_wait_for_a_moderator_who_approves_from_slack(slack: Mod) -> None:
    question, card = await slack.publish(ASK)
    await slack.reply("U0ANN", card, "Please email me at ann@example.com about the bins")
    (held,) = slack.fake.ephemerals_for("U0ANN", CHANNEL)
    assert "will appear once a moderator has checked it" in held["text"]
    ann = ref_in(held["text"])
    modal = await slack.modal_answer("U0BOB", card, "You are all fucking idiots")
    assert "will appear once a moderator has checked it" in block_text(modal)
    bob = ref_in(block_text(modal))

    assert (await slack.tally(question))["answers"] == []
    assert await slack.statuses(question) == [
        ("Please email me at ann@example.com about the bins", "held"),
        ("You are all fucking idiots", "held"),
    ]

    messages = await queue(slack)
    assert all(m["user"] == MODERATOR for m in messages)
    first = with_button(messages, f"mod:approve:{ann[1:]}")
    second = with_button(messages, f"mod:approve:{bob[1:]}")
    assert first is not second  # one private message per card: a click replaces only its own
    assert [b["text"]["text"] for b in buttons(first)] == list(DECISIONS)
    assert [b["value"] for b in buttons(first)] == [f"mod:{d.lower()}:{ann[1:]}" for d in DECISIONS]
    shown = block_text(first)
    assert f"{ann} on “What would make the high street better?”" in shown
    assert "ann@example.com about the bins" in shown and "Email address" in shown
    assert "Abusive language" in block_text(second)
    assert "Page 1 of 1, 2 waiting" in "\n".join(m["text"] for m in messages)

    after = await slack.click(MODERATOR, first, f"mod:approve:{ann[1:]}")
    assert after["text"] == f"{ann}: approved and visible."
    assert buttons(after) == []  # the card is replaced: its buttons cannot be pressed twice
    assert buttons(slack.ephemeral(second["ts"])) == buttons(second)  # the other card stays
    again = await slack.client.send(slack.client.sent[-1][0])  # Slack delivers the click twice
    assert (again.status, again.body) == (200, "")

    assert await slack.visible_texts(question) == [
        "Please email me at ann@example.com about the bins"
    ]
    assert [e for e in await slack.audit() if e[1] == "answer.approve"] == [
        ("slack:U0MOD", "answer.approve", ann)
    ]
    (still,) = [m for m in await queue(slack) if buttons(m)]
    assert buttons(still)[0]["value"] == f"mod:approve:{bob[1:]}"


async def test_a_full_page_of_the_queue_is_five_clickable_cards(slack: Mod) -> None:
    _, card = await slack.publish(ASK)
    for n in range(6):
        await slack.reply(f"U0P{n}", card, f"Ring me on 07700 90012{n}")
    messages = await queue(slack)
    assert [buttons(m)[0]["value"] for m in messages] == [f"mod:approve:{n}" for n in range(1, 6)]
    assert "Page 1 of 2, 6 waiting, oldest first. Next: flagged 2" in messages[-1]["text"]
    assert [r.status for r in slack.fake.responses] == [200] * 4  # within Slack's 5 per URL
    for n, message in enumerate(messages, 1):
        assert (await slack.click(MODERATOR, message, f"mod:hide:{n}"))["text"] == f"A{n}: hidden."
    (last,) = [m for m in await queue(slack) if buttons(m)]
    assert "Page 1 of 1, 1 waiting" in last["text"] and buttons(last)[0]["value"].endswith(":6")


async def test_hiding_tells_the_author_in_a_direct_message(slack: Mod) -> None:
    question, card = await slack.publish(ASK)
    await slack.reply("U0ANN", card, "Honestly the bus drivers are the worst people alive")
    ref = f"A{(await slack.answers())[0].id}"
    await slack.app.deliverer.drain()
    posted = len(slack.fake.calls_to("chat.postMessage"))

    command = await slack.private(MODERATOR, f"hide {ref} insulting staff")
    assert command[0]["text"] == f"{ref}: hidden."
    assert await slack.statuses(question) == [
        ("Honestly the bus drivers are the worst people alive", "hidden")
    ]
    assert ("slack:U0MOD", "answer.hide", ref) in await slack.audit()

    # the author hears about it privately, once the outbox runs
    assert len(slack.fake.calls_to("chat.postMessage")) == posted
    await slack.app.deliverer.drain()
    (dm,) = slack.fake.calls_to("chat.postMessage")[posted:]
    assert dm["channel"] == "U0ANN" and dm.ok
    channel = dm.response["channel"]
    assert channel.startswith("D") and channel != CHANNEL
    (message,) = slack.fake.channel_messages(channel)
    assert message["text"].startswith(f"A moderator has hidden your answer {ref}")
    assert "What would make the high street better?" in message["text"]
    assert slack.fake.bot_messages(CHANNEL) == [slack.fake.message(CHANNEL, card["ts"])]


async def test_the_hide_button_on_the_queue_hides_and_tells_the_author(slack: Mod) -> None:
    question, card = await slack.publish(ASK)
    await slack.reply("U0ANN", card, "My NI number is QQ 12 34 56 C, sort it out")
    ref = ref_in(slack.fake.ephemerals_for("U0ANN")[0]["text"])
    reviewed = with_button(await queue(slack), f"mod:hide:{ref[1:]}")
    (hide,) = [b for b in buttons(reviewed) if b["text"]["text"] == "Hide"]
    assert hide["style"] == "danger"
    after = await slack.click(MODERATOR, reviewed, f"mod:hide:{ref[1:]}")
    assert after["text"] == f"{ref}: hidden."
    await slack.app.deliverer.drain()
    (dm,) = [c for c in slack.fake.calls_to("chat.postMessage", ok=True) if c["channel"] == "U0ANN"]
    assert dm.response["channel"].startswith("D")
    assert (await slack.statuses(question))[0][1] == "hidden"
