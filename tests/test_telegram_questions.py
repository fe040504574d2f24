"""Open questions through the real python-telegram-bot: people answer by replying.

Answers are replies to the question's message (in a forum topic they stay in the topic); a
photo's caption is an answer; stickers, edited messages, service messages, plain chatter and
replies to someone else's message are not.
"""

from __future__ import annotations

import pytest

from storage.db import Database
from storage.models import Answer
from tests.drivers.telegram_kit import (  # noqa: F401 - fake_telegram is a fixture
    BOT_USERNAME,
    OFFICER_ID,
    WAIT,
    count_rows,
    fake_telegram,
    keyboard_of,
    running,
)
from tests.fakes.telegram import JSON, FakeTelegram
from tests.support import FakeClock

pytestmark = pytest.mark.timeout(90)


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_ten_citizens_answer_by_replying(
    fake: FakeTelegram, db: Database, clock: FakeClock, mode: str
) -> None:
    webhook = mode == "webhook"
    group = fake.group(-1001000000003, "High street")
    forum = fake.group(-1001000000004, "Council forum", forum=True)
    topic = fake.create_topic(forum, "High street")
    officer = fake.user(OFFICER_ID, "Olivia")
    people = [fake.user(3000 + n, f"Person {n}") for n in range(12)]
    async with running(fake, db, clock, webhook=webhook) as h:
        question, card = await h.publish(
            group, officer, f'/ask@{BOT_USERNAME} "What would make the high street better?"'
        )
        assert card["text"].startswith("What would make the high street better?")
        assert keyboard_of(card) == [[("Answer", f"answer:{question}")]]
        in_topic, topic_card = await h.publish(
            forum, officer, '/ask "And in the council forum?"', thread_id=topic
        )
        assert topic_card["message_thread_id"] == topic  # the card stays in the topic

        answers: list[JSON] = [
            fake.reply_update(group, people[n], f"Idea number {n}: more benches", reply_to=card)
            for n in range(8)
        ]
        answers.append(
            fake.photo_update(group, people[8], caption="This empty shop", reply_to=card)
        )
        topic_answer = fake.reply_update(forum, people[9], "A market on Saturdays", topic_card)
        answers.append(topic_answer)
        chatter = fake.text_update(group, people[10], "Lovely weather")
        noise = [
            fake.sticker_update(group, people[10], reply_to=card),
            fake.photo_update(group, people[10], reply_to=card),  # no caption
            fake.new_chat_members_update(group, [people[11]]),
            chatter,
            fake.reply_update(
                group, people[11], "I agree with you", reply_to=answers[0]["message"]
            ),
            fake.text_update(forum, people[11], "Not a reply", thread_id=topic),
            fake.edited_message_update(answers[0]["message"], "Edited: more trees"),
        ]
        since = fake.mark()
        statuses = await h.deliver_all(answers + noise)
        if webhook:
            assert statuses == [200] * len(answers + noise)
        for update in answers:
            call = await h.reply_to(update)
            assert "recorded" in call.params["text"]
        topic_thanks = await h.reply_to(topic_answer)
        assert topic_thanks.params["message_thread_id"] == topic
        await h.settle()
        asked_first, asked_in_topic = await h.tally(question), await h.tally(in_topic)

    assert asked_first["responses"] == 9 and asked_first["participants"] == 9
    texts = sorted(a["text"] for a in asked_first["answers"])
    assert texts == sorted(
        [*(f"Idea number {n}: more benches" for n in range(8)), "This empty shop"]
    )
    assert [a["text"] for a in asked_in_topic["answers"]] == ["A market on Saturdays"]
    assert {a["platform"] for a in asked_first["answers"]} == {"telegram"}
    assert await count_rows(db, Answer) == 10
    # the bot replied to the ten answers and to nothing else
    replied = [
        (c.params["chat_id"], c.params["reply_parameters"]["message_id"])
        for c in fake.calls_to("sendMessage")
        if c.params.get("reply_parameters") and c in fake.calls[since:]
    ]
    assert sorted(replied) == sorted(
        (u["message"]["chat"]["id"], u["message"]["message_id"]) for u in answers
    )
    if not webhook:  # Telegram never sends update types the bot did not ask for
        assert [u.get("edited_message") is not None for u in fake.withheld_updates] == [True]


async def test_the_answer_button_explains_how_to_answer(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    group = fake.group(-1001000000005, "Questions")
    officer, ann = fake.user(OFFICER_ID, "Olivia"), fake.user(3101, "Ann")
    async with running(fake, db, clock) as h:
        question, card = await h.publish(group, officer, '/ask "Where should the bus stop go?"')
        click = fake.button_update(ann, card, "Answer")
        await h.deliver(click)
        await fake.wait_for_call("answerCallbackQuery", timeout=WAIT)
        answer = fake.callback_answer(click["callback_query"]["id"])
        assert answer is not None and answer.show_alert
        assert answer.text is not None and "reply to the question's message" in answer.text
        assert (await h.tally(question))["responses"] == 0
