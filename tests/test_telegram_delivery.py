"""Commands, notices and the outbox through the real python-telegram-bot (polling mode).

Who may do what is the core's business; here: the refusal reaches the person, private things
go to the private chat, rate limits are waited out and a blocked user is given up on.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.errors import DeliveryError
from bot.events import MessageRef, Target
from bot.views import Card, Notice, view_to_dict
from storage.db import Database
from storage.models import Answer, Item, OutboxMessage
from storage.outbox import OutboxRepository
from tests.drivers.telegram_kit import (  # noqa: F401 - fake_telegram is a fixture
    BOT_USERNAME,
    OFFICER_ID,
    QUIET_RETRY_AFTER,
    WAIT,
    count_rows,
    fake_telegram,
    running,
    telegram_settings,
)
from tests.fakes.telegram import FakeTelegram
from tests.support import FakeClock

pytestmark = [pytest.mark.timeout(60), QUIET_RETRY_AFTER]


async def outbox_rows(db: Database) -> list[OutboxMessage]:
    async with db.transaction() as session:
        query = select(OutboxMessage).where(OutboxMessage.op == "send").order_by(OutboxMessage.id)
        return list((await session.execute(query)).scalars())


async def test_commands_menu_refusals_and_other_bots(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    group = fake.group(-1001000000010, "Town square")
    officer, carol = fake.user(OFFICER_ID, "Olivia"), fake.user(4001, "Carol")
    async with running(fake, db, clock) as h:
        menu = [c["command"] for c in fake.commands()]
        assert menu == [  # the order of `help`: the menu is made from the same specs
            *("poll", "scale", "ask", "report", "flagged", "approve", "hide", "redact"),
            *("escalate", "privacy", "mydata", "forget", "language"),
            *("close", "results", "list", "help"),
            *("start", "publish", "respond", "subscribe", "unsubscribe", "topics", "stop"),
            "statements",
        ]

        refused = await h.command(group, carol, '/poll "Free parking?" "Yes" "No"')
        assert refused.params["text"] == "Sorry, only the policy team can do that."
        assert refused.params.get("message_thread_id") is None

        since = fake.mark()
        ignored = fake.command_update(group, officer, '/poll@other_bot "Q?" "A" "B"')
        await h.deliver(ignored)
        helped = await h.command(group, carol, f"/help@{BOT_USERNAME}")
        assert "Townhall commands" in helped.params["text"]
        assert "poll" not in helped.params["text"]  # citizens see their commands only
        await h.app.deliverer.drain()
        await h.settle()
    assert await count_rows(db, Item) == 0
    sent = [c.params["text"] for c in fake.calls_to("sendMessage")[:] if c in fake.calls[since:]]
    assert sent == [helped.params["text"]]  # nothing for /poll@other_bot


async def test_a_429_pauses_that_chats_queue_not_only_the_refused_row(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    busy, calm = fake.group(-1001000000013, "Busy"), fake.group(-1001000000014, "Calm")
    async with running(fake, db, clock) as h:
        async with db.transaction() as session:
            outbox = OutboxRepository(session)
            for chat, text in ((busy, "one"), (busy, "two"), (busy, "three"), (calm, "other")):
                view = view_to_dict(Notice(text))
                await outbox.send(
                    platform="telegram", channel_id=str(chat["id"]), view=view, at=clock.now
                )
        # The two chats are sent to concurrently: refuse the busy chat's first send, whichever
        # chat reaches the API first.
        fake.fail_next(
            "sendMessage",
            status=429,
            retry_after=5,
            predicate=lambda params: str(params.get("chat_id")) == str(busy["id"]),
        )
        await h.app.deliverer.drain()
        # "one" was refused; "two" and "three" waited with it instead of meeting the same 429
        assert sorted(c.params["text"] for c in fake.calls_to("sendMessage")) == ["one", "other"]
        assert [r.status for r in await outbox_rows(db)] == [
            "pending",
            "pending",
            "pending",
            "sent",
        ]
        clock.advance(seconds=5)
        await h.app.deliverer.drain()
    assert [m["text"] for m in fake.sent_messages(busy["id"])] == ["one", "two", "three"]
    assert [r.status for r in await outbox_rows(db)] == ["sent"] * 4


async def test_results_go_to_the_officers_private_chat(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    group = fake.group(-1001000000011, "Town square")
    officer = fake.user(OFFICER_ID, "Olivia")
    async with running(fake, db, clock) as h:
        poll, _card = await h.publish(group, officer, '/poll "Q?" "A" "B"')
        # the officer never opened a private chat with the bot: told how to, nothing leaks
        first = await h.command(group, officer, f"/results {poll}")
        assert f"@{BOT_USERNAME}" in first.params["text"] and "Start" in first.params["text"]
        assert all("Results:" not in m["text"] for m in fake.sent_messages(group["id"]))

        fake.private_chat(officer)  # they press Start
        second = await h.command(group, officer, f"/results {poll}")
        assert second.params["text"] == "I've sent you that in our private chat."
        private = fake.last_sent(officer["id"])
        assert private["text"].startswith("Results: Q?")
        assert private["chat"]["type"] == "private"

        listed = await h.command(fake.private_chat(officer), officer, "/list")
        assert poll in listed.params["text"]


async def test_a_429_is_waited_out_and_the_card_still_arrives(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    group = fake.group(-1001000000012, "Busy")
    officer = fake.user(OFFICER_ID, "Olivia")
    async with running(fake, db, clock) as h:
        fake.fail_next(
            "sendMessage", status=429, retry_after=7, predicate=lambda p: "reply_markup" in p
        )
        await h.command(group, officer, '/poll "Rate limited?" "Yes" "No"')
        await h.app.deliverer.drain()
        [row] = await outbox_rows(db)
        assert (
            row.status == "pending" and row.attempts == 0
        )  # a 429 is no failure: it costs no attempt
        assert row.due_at.replace(tzinfo=None) == (clock.now + timedelta(seconds=7)).replace(
            tzinfo=None
        )
        assert "RetryAfter" in (row.last_error or "")
        assert not [m for m in fake.sent_messages(group["id"]) if "reply_markup" in m]

        clock.advance(seconds=6)
        await h.app.deliverer.drain()
        assert len(fake.calls_to("sendMessage")) == 2  # the notice and the refused card
        clock.advance(seconds=1)
        await h.app.deliverer.drain()
        card = fake.last_sent(group["id"])
        assert card["text"].startswith("Rate limited?") and "reply_markup" in card
        [row] = await outbox_rows(db)
        assert row.status == "sent"


async def test_a_blocked_users_private_message_fails_for_good(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    officer = fake.user(OFFICER_ID, "Olivia")
    chat = fake.private_chat(officer)
    async with running(fake, db, clock) as h:
        await h.command(chat, officer, '/poll "Just for me?" "Yes" "No"')
        fake.block_user(officer["id"])
        await h.app.deliverer.drain()
        [row] = await outbox_rows(db)
        assert row.status == "failed" and row.attempts == 1
        assert "blocked" in (row.last_error or "")
        attempts = len(fake.calls_to("sendMessage"))
        clock.advance(hours=2)
        await h.app.deliverer.drain()
        assert len(fake.calls_to("sendMessage")) == attempts  # not retried


async def test_send_and_edit_map_telegram_errors(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    forum = fake.group(-1001000000013, "Forum", forum=True)
    topic = fake.create_topic(forum, "Budget")
    async with running(fake, db, clock) as h:
        adapter = h.adapter
        card = Card("Q?", body="<b>not bold</b> & co", footer="Poll x")
        ref = await adapter.send(Target(str(forum["id"]), str(topic)), card)
        assert ref.thread_id == str(topic)
        stored = fake.message(forum["id"], int(ref.message_id))
        assert stored is not None and stored["message_thread_id"] == topic
        assert "<b>not bold</b> & co" in stored["text"]

        await adapter.edit(ref, card)  # "message is not modified": already shows it
        assert "not modified" in (fake.calls_to("editMessageText")[-1].error or "")

        fake.fail_next("editMessageText", status=429, retry_after=3)
        with pytest.raises(DeliveryError) as limited:
            await adapter.edit(ref, Card("Q2?"))
        assert limited.value.retry_after == 3 and not limited.value.permanent

        fake.fail_next("sendMessage", status=502)
        with pytest.raises(DeliveryError) as transient:
            await adapter.send(Target(str(forum["id"])), Notice("hi"))
        assert not transient.value.permanent and transient.value.retry_after is None

        with pytest.raises(DeliveryError) as gone:
            await adapter.send(Target("-100999"), Notice("hi"))
        assert gone.value.permanent and "chat not found" in str(gone.value).lower()

        with pytest.raises(DeliveryError) as missing:
            await adapter.edit(MessageRef("telegram", str(forum["id"]), "99999"), card)
        assert missing.value.permanent
    assert fake.token not in " ".join(str(c.response) for c in fake.calls)


async def test_confidential_notices_go_to_the_private_chat(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    """Explicit consent: the consent card for an answer written in a group is sent privately."""
    group = fake.group(-1001000000014, "High street")
    officer = fake.user(OFFICER_ID, "Olivia")
    dave, erin = fake.user(4101, "Dave"), fake.user(4102, "Erin")
    erins_chat = fake.private_chat(erin)
    settings = telegram_settings(db.url, consent="explicit")
    async with running(fake, db, clock, settings=settings) as h:
        question, card = await h.publish(group, officer, '/ask "What should change?"')

        daves = fake.reply_update(group, dave, "More buses", reply_to=card)
        await h.deliver(daves)
        note = await h.reply_to(daves)
        assert f"@{BOT_USERNAME}" in note.params["text"] and "Start" in note.params["text"]

        erins = fake.reply_update(group, erin, "Fewer cars", reply_to=card)
        await h.deliver(erins)
        note = await h.reply_to(erins)
        assert note.params["text"] == "I've sent you that in our private chat."
        consent = fake.last_sent(erin["id"])
        assert consent["text"].startswith("Before we record your answer")
        assert all(m["text"] != consent["text"] for m in fake.sent_messages(group["id"]))
        assert (await h.tally(question))["responses"] == 0  # waiting for consent

        agree = fake.button_update(erin, consent, "I agree")
        await h.deliver(agree)
        await fake.wait_for_call("answerCallbackQuery", timeout=WAIT)
        answer = fake.callback_answer(agree["callback_query"]["id"])
        assert answer is not None and answer.text and "recorded" in answer.text
        result = await h.tally(question)
        assert [a["text"] for a in result["answers"]] == ["Fewer cars"]

        mine = await h.command(erins_chat, erin, "/mydata")
        assert mine.params["chat_id"] == erin["id"]  # in the private chat: answered in place
    assert await count_rows(db, Answer) == 1
