"""Privacy on Telegram through the real python-telegram-bot, on SQLite and PostgreSQL.

What is for one person (a copy of their data, the erasure and consent cards) reaches their
private chat with the bot, never the group; their buttons there work; and the command menu
lists what citizens and moderators can do.
"""

from __future__ import annotations

import pytest

from handlers import all_specs
from storage.db import Database
from storage.models import PendingAction
from tests.drivers.telegram_kit import count_rows
from tests.drivers.telegram_moderation_kit import (  # noqa: F401 - fake is a fixture
    BOT_USERNAME,
    answers,
    exported,
    fake_telegram_in_privacy_mode,
    keyboard_of,
    moderated,
)
from tests.fakes.telegram import FakeTelegram
from tests.support import FakeClock

pytestmark = pytest.mark.timeout(90)

SENT_PRIVATELY = "I've sent you that in our private chat."
#: A long answer, to check that a copy of someone's data arrives whole (Telegram messages
#: hold 4096 characters; the JSON copy puts the answer on one line).
LONG = " ".join(f"word{n:04d}" for n in range(380))


async def test_mydata_and_forget_are_answered_in_the_private_chat(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    async with moderated(fake, db, clock) as m:
        ann, bob = m.person(6001, "Ann"), m.person(6002, "Bob")
        _poll, poll_card = await m.h.publish(
            m.group, m.officer, '/poll "Open on Sundays?" "Yes" "No"'
        )
        _question, card = await m.ask()
        for person in (ann, bob):
            toast = await m.click(person, poll_card, "Yes")
            assert toast.text is not None and "Yes" in toast.text
        await m.answer(ann, card, "Ann thinks more trees")
        await m.answer(ann, card, LONG)
        await m.answer(bob, card, "Bob wants a cafe")

        # in the group: a copy goes to Ann's private chat, the group hears one line
        since = fake.mark()
        assert await m.command(m.group, ann, "/mydata") == [SENT_PRIVATELY]
        assert [c.params["text"] for c in m.sent_to(m.group, since)] == [SENT_PRIVATELY]
        copy = [m.message_of(c)["text"] for c in m.sent_to(m.private(ann), since)]
        assert copy[0].startswith("What Townhall holds about you")
        assert all("…" not in part for part in copy)  # not cut
        body = "".join(copy)
        assert '"choice": "Yes"' in body and "Ann thinks more trees" in body
        assert all(word in body for word in LONG.split())
        assert "Bob wants a cafe" not in body and str(ann["id"]) not in body

        # in the private chat: the same, as replies there
        since = fake.mark()
        again = await m.command(m.private(ann), ann, "/mydata", replies=len(copy))
        assert again == [c.params["text"] for c in m.sent_to(m.private(ann), since)]

        # forget, from the private chat: Cancel does nothing, "Yes, erase it" erases
        forget = await m.send(m.private(ann), ann, "/forget")
        (call,) = [c for c in m.sent_to(m.private(ann)) if "Erase everything" in c.params["text"]]
        erase_card = m.message_of(call)
        assert [label for ((label, _),) in keyboard_of(erase_card)] == ["Yes, erase it", "Cancel"]
        assert len(m.replies(forget)) == 1
        await m.h.settle()


async def test_explicit_consent_is_asked_in_the_private_chat_once_started(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    async with moderated(fake, db, clock, consent="explicit") as m:
        ann = m.person(6101, "Ann")
        bob = m.person(6102, "Bob", started=False)
        cat = m.person(6103, "Cat")
        question, card = await m.ask()

        # Ann answers in the group: the consent card is hers alone, so it goes to her
        # private chat; nothing is stored before she agrees
        since = fake.mark()
        first = await m.send(m.group, ann, "Longer opening hours", reply_to=card)
        assert m.replies(first) == [SENT_PRIVATELY]
        (call,) = m.sent_to(m.private(ann), since)
        consent = m.message_of(call)
        assert consent["text"].startswith("Before we record your answer")
        assert [label for ((label, _),) in keyboard_of(consent)] == ["I agree", "No thanks"]
        assert (await m.h.tally(question))["responses"] == 0 and await answers(db) == []

        agreed = await m.click(ann, consent, "I agree")
        assert agreed.text == "Thanks, your answer is recorded (ref A1)."
        (stored,) = await answers(db)
        # stored where it was written, so that it can be reported there
        assert (stored.channel_id, stored.message_id) == (
            str(m.group["id"]),
            str(first["message"]["message_id"]),
        )
        second, _ = await m.answer(ann, card, "And a cafe")  # consent is asked once

        # Bob never opened a private chat: the group is told how, nothing is kept yet...
        waiting = await m.send(m.group, bob, "More bins please", reply_to=card)
        (note,) = m.replies(waiting)
        assert f"@{BOT_USERNAME}" in note and "Start" in note
        assert await count_rows(db, PendingAction) == 1
        # ...he presses Start and asks about privacy there: agreeing stores his answer
        fake.private_chat(bob)
        since = fake.mark()
        await m.command(m.private(bob), bob, "/privacy")
        (call,) = m.sent_to(m.private(bob), since)
        bobs = await m.click(bob, m.message_of(call), "I agree")
        assert bobs.text == "Thanks, your answer is recorded (ref A3)."

        # Cat says no: nothing of hers is kept
        since = fake.mark()
        await m.send(m.group, cat, "My number is 07700 900123", reply_to=card)
        (call,) = m.sent_to(m.private(cat), since)
        declined = await m.click(cat, m.message_of(call), "No thanks")
        assert declined.text == "Understood: nothing was recorded."
        result = await m.h.tally(question)
        await m.h.settle()

    assert second == "A2"
    assert [a["text"] for a in result["answers"]] == [
        "Longer opening hours",
        "And a cafe",
        "More bins please",
    ]
    assert await count_rows(db, PendingAction) == 0
    assert all(
        "Longer opening hours" not in msg["text"] and "Before we record" not in msg["text"]
        for msg in fake.sent_messages(m.group["id"])
    )


async def test_the_command_menu_lists_the_moderation_and_privacy_commands(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    async with moderated(fake, db, clock):
        menu = {c["command"]: c["description"] for c in fake.commands()}
    core = {spec.name for spec in all_specs()}
    wanted = {"report", "privacy", "mydata", "forget", "flagged", "approve", "hide", "redact"}
    assert wanted | {"escalate"} <= set(menu) <= core
    assert all(len(text) <= 60 for text in menu.values())
    assert "moderators" in menu["flagged"] and "moderators" not in menu["report"]
