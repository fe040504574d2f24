"""Moderation on Telegram through the real python-telegram-bot, on SQLite and PostgreSQL:
only what is Telegram's own (the story every platform shares is in test_scenarios.py).

Held answers wait for a moderator, who works the queue in their private chat with the bot
(never in the group), with inline buttons; citizens report an answer by replying ``/report``
to it; a hidden answer's author is told privately, and a blocked author is given up on.
"""

from __future__ import annotations

import pytest

from storage.db import Database
from tests.drivers.telegram_moderation_kit import (  # noqa: F401 - fake is a fixture
    BOT_USERNAME,
    MODERATOR_ID,
    answers,
    audit,
    fake_telegram_in_privacy_mode,
    keyboard_of,
    moderated,
    outbox_sends,
)
from tests.fakes.telegram import FakeTelegram
from tests.support import FakeClock

pytestmark = pytest.mark.timeout(90)

PHONE = "Call me on 07700 900123 about the benches"
QUEUE_BUTTONS = ["Approve", "Hide", "Redact", "Escalate"]
SENT_PRIVATELY = "I've sent you that in our private chat."


async def test_the_queue_is_worked_in_the_private_chat_never_in_the_group(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    # polling mode here; the scenario suite runs the same story over the webhook
    async with moderated(fake, db, clock) as m:
        ann, bob = m.person(5001, "Ann"), m.person(5002, "Bob")
        question, card = await m.ask()
        await m.answer(ann, card, "More benches near the pond")
        held, held_update = await m.answer(bob, card, PHONE)
        assert "once a moderator has checked it" in m.replies(held_update)[0]
        assert [a["text"] for a in (await m.h.tally(question))["answers"]] == [
            "More benches near the pond"
        ]

        # /flagged in the group: the queue goes to the moderator's private chat, the group
        # hears one line about it and sees nothing of the queue
        since = m.fake.mark()
        in_group = await m.command(m.group, m.moderator, f"/flagged@{BOT_USERNAME}")
        assert in_group == [SENT_PRIVATELY]
        assert [c.params["text"] for c in m.sent_to(m.group, since)] == [SENT_PRIVATELY]
        mod_chat = m.private(m.moderator)
        assert list(m.queue_cards(mod_chat, since)) == [held]
        assert "Page 1 of 1" in m.sent_to(mod_chat, since)[-1].params["text"]

        # /flagged in the private chat: the cards reply to the command, with their buttons
        since = m.fake.mark()
        replies = await m.command(mod_chat, m.moderator, "/flagged", replies=2)
        assert replies[-1].startswith("Page 1 of 1, 1 waiting")
        queue = m.queue_cards(mod_chat, since)[held]
        assert PHONE in queue["text"] and "Phone number" in queue["text"]
        assert [label for ((label, _),) in keyboard_of(queue)] == QUEUE_BUTTONS
        assert [data for ((_, data),) in keyboard_of(queue)] == [
            f"mod:{d}:{held[1:]}" for d in ("approve", "hide", "redact", "escalate")
        ]

        toast = await m.click(m.moderator, queue, "Approve")
        assert toast.text == f"{held}: approved and visible."
        again = await m.click(m.moderator, queue, "Hide")  # the card is still on screen
        assert again.text == f"{held} was already decided: it is visible."
        result = await m.h.tally(question)
        empty = await m.command(mod_chat, m.moderator, "/flagged")
        await m.h.settle()

    assert [a["text"] for a in result["answers"]] == ["More benches near the pond", PHONE]
    assert empty == ["The moderation queue is empty."]
    decisions = [entry for entry in await audit(db) if entry[1].startswith("answer.")]
    assert decisions == [(f"telegram:{MODERATOR_ID}", "answer.approve", held)]
    assert all("07700" not in msg["text"] for msg in fake.sent_messages(m.group["id"]))


async def test_report_is_a_reply_and_any_callback_gesture_reaches_the_core(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    async with moderated(fake, db, clock) as m:
        ann, bob = m.person(5101, "Ann"), m.person(5102, "Bob")
        _question, card = await m.ask()
        ref, answer = await m.answer(ann, card, "The park should close at dusk")
        written = answer["message"]  # /report replies to the answer itself

        own = await m.command(m.group, ann, "/report", reply_to=written)
        assert own == ["You can't report your own answer."]
        nothing = await m.command(m.group, bob, "/report")
        assert "Reply to the answer" in nothing[0]
        not_an_answer = await m.command(m.group, bob, "/report", reply_to=card)
        assert "can't find that answer" in not_an_answer[0]
        thanks = await m.command(m.group, bob, f"/report@{BOT_USERNAME}", reply_to=written)
        assert thanks == ["Thanks for telling us. A moderator will look at it."]
        # any button's callback data "action:value" reaches the core, colons and all
        eve = m.person(5106, "Eve")
        gesture = f"report:m:{m.group['id']}:{written['message_id']}"
        forged = await m.press(fake.callback_update(eve, card, gesture, check_keyboard=False))
        assert forged.text == "Thanks for telling us. A moderator will look at it."
        mod_chat = m.private(m.moderator)
        since = m.fake.mark()
        await m.command(mod_chat, m.moderator, "/flagged", replies=2)
        queue = m.queue_cards(mod_chat, since)[ref]

    (stored,) = await answers(db)
    # stored where it was written, so that a reply to it finds it
    assert (stored.channel_id, stored.message_id) == (
        str(m.group["id"]),
        str(written["message_id"]),
    )
    assert stored.needs_review and "Reports: 2" in queue["text"]


async def test_hiding_tells_the_author_privately_and_gives_up_on_a_blocked_one(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    async with moderated(fake, db, clock) as m:
        ann, bob = m.person(5301, "Ann"), m.person(5302, "Bob")
        cat = m.person(5303, "Cat", started=False)  # never opened a private chat
        question, card = await m.ask()
        abusive, _ = await m.answer(ann, card, "You are all fucking idiots")
        blocked, _ = await m.answer(bob, card, "Email me at bob@example.com")
        unreachable, _ = await m.answer(cat, card, "Ring 020 7946 0000")
        mod_chat = m.private(m.moderator)
        since = m.fake.mark()
        await m.command(mod_chat, m.moderator, "/flagged", replies=4)
        queue = m.queue_cards(mod_chat, since)
        assert list(queue) == [abusive, blocked, unreachable]  # oldest first

        hid = await m.click(m.moderator, queue[abusive], "Hide")
        assert hid.text == f"{abusive}: hidden."
        fake.block_user(bob["id"])
        by_command = await m.command(mod_chat, m.moderator, f"/hide {blocked} personal data")
        assert by_command == [f"{blocked}: hidden."]
        await m.command(mod_chat, m.moderator, f"/hide {unreachable}")
        await m.h.app.deliverer.drain()

        told = m.sent_to(m.private(ann))
        assert len(told) == 1 and f"hidden your answer {abusive}" in told[0].params["text"]
        tries = {
            who["id"]: [c for c in fake.calls_to("sendMessage") if c.params["chat_id"] == who["id"]]
            for who in (bob, cat)
        }
        assert [c.status for c in tries[bob["id"]]] == [403]
        assert [c.status for c in tries[cat["id"]]] == [403]
        # given up for good: later runs of the outbox do not try again
        clock.advance(hours=2)
        await m.h.app.deliverer.drain()
        retried = [
            c for c in fake.calls_to("sendMessage") if c.params["chat_id"] in (bob["id"], cat["id"])
        ]
        result = await m.h.tally(question)
        await m.h.settle()

    assert len(retried) == 2
    for who in (bob, cat):
        (row,) = await outbox_sends(db, who["id"])
        assert row.private and row.status == "failed"
    assert result["responses"] == 0
    assert {a.status for a in await answers(db)} == {"hidden"}
