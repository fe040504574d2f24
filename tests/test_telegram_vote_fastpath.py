"""The webhook's vote fast path reads a click from the parsed JSON exactly as PTB's path does."""

from __future__ import annotations

import dataclasses

from adapters.telegram.translate import vote_click
from tests.fakes.telegram import JSON, FakeTelegram
from tests.test_telegram_translate import bot_message, event_of, tg  # noqa: F401 - a fixture


def same(update: JSON) -> None:
    fast, ordinary = vote_click(update), event_of(update)
    assert fast is not None and ordinary is not None
    assert dataclasses.replace(fast, received_at=ordinary.received_at) == ordinary


def test_vote_clicks_translate_like_the_ordinary_path(tg: FakeTelegram) -> None:  # noqa: F811
    alice = tg.user(1, "Alice")
    bob = {**tg.user(2, "Bob"), "last_name": "Smith"}
    group = tg.group(-1005, "Group", supergroup=True)
    forum = tg.group(-1004, "Forum", forum=True)
    topic = tg.create_topic(forum, "Budget")
    keyboard = {
        "inline_keyboard": [
            [{"text": "Yes", "callback_data": "vote:abc123:1"}],
            [{"text": "OK", "callback_data": "consent:yes"}],
        ]
    }
    cards = [
        {**bot_message(tg, group, 800), "reply_markup": keyboard},
        {
            **bot_message(tg, forum, 700),
            "message_thread_id": topic,
            "is_topic_message": True,
            "reply_markup": keyboard,
        },
        {**bot_message(tg, tg.private_chat(alice), 900), "reply_markup": keyboard},
    ]
    for card in cards:
        for who in (alice, bob):
            same(tg.callback_update(who, card, "vote:abc123:1"))
    old = tg.callback_update(alice, cards[0], "vote:abc123:1")
    old["callback_query"]["message"] = {"message_id": 801, "chat": group, "date": 0}
    same(old)  # an inaccessible (old) message: chat and id only
    assert vote_click(tg.callback_update(alice, cards[0], "consent:yes")) is None
    assert vote_click(tg.text_update(group, alice, "vote abc123 1")) is None
    broken = tg.callback_update(alice, cards[0], "vote:abc123:1")
    del broken["callback_query"]["message"]["chat"]
    assert vote_click(broken) is None  # unusual: the ordinary path decides
