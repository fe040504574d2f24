"""Telegram updates -> core events and views -> Telegram payloads, without network or database.

The updates come from the fake's builders (shaped like Telegram's, including forum topics) and
are parsed by the real python-telegram-bot.
"""

from __future__ import annotations

import pytest
from telegram import Update

from adapters.telegram.errors import retry_after_seconds
from adapters.telegram.render import callback_text, card_html, keyboard, payload
from adapters.telegram.translate import BotIdentity, to_event
from adapters.telegram.webhook import public_url
from bot.events import Event, EventKind
from bot.views import Button, Card, Notice, ResultBar
from tests.drivers.telegram_kit import BOT_USERNAME, QUIET_RETRY_AFTER, TOKEN
from tests.fakes.telegram import JSON, FakeTelegram

ME = BotIdentity(123456, BOT_USERNAME)


@pytest.fixture
def tg() -> FakeTelegram:
    return FakeTelegram(token=TOKEN, bot_username=BOT_USERNAME)  # builders only: not started


def event_of(update: JSON) -> Event | None:
    return to_event(Update.de_json(update, None), ME)


def bot_message(tg: FakeTelegram, chat: JSON, message_id: int = 500, text: str = "Q?") -> JSON:
    return {
        "message_id": message_id,
        "from": tg.bot_user,
        "chat": chat,
        "date": 1_700_000_000,
        "text": text,
    }


def test_commands(tg: FakeTelegram) -> None:
    group = tg.group(-1001, "Group", supergroup=True)
    alice = tg.user(42, "Alice", last_name="Smith")
    update = tg.command_update(group, alice, f'/poll@{BOT_USERNAME} "Q?" "A" "B"')
    event = event_of(update)
    assert event is not None and event.kind is EventKind.COMMAND
    assert event.text == f'/poll@{BOT_USERNAME} "Q?" "A" "B"'
    assert event.event_id == str(update["update_id"])
    assert (event.actor.user_id, event.actor.display_name) == ("42", "Alice Smith")
    assert event.target.channel_id == "-1001" and not event.target.private
    assert event.target.message_id == str(update["message"]["message_id"])
    # options on the next line (phones) still parse: one space after the command
    multiline = event_of(tg.command_update(group, alice, '/poll\n"Q?"\n"A"\n"B"'))
    assert multiline is not None and multiline.text == '/poll "Q?"\n"A"\n"B"'
    assert event_of(tg.command_update(group, alice, "/poll@other_bot x")) is None
    unknown = event_of(tg.command_update(group, alice, "/weather"))
    assert unknown is not None and unknown.kind is EventKind.COMMAND  # the core answers it
    private = event_of(tg.command_update(tg.private_chat(alice), alice, "/start"))
    assert private is not None and private.target.private and private.text == "/start"


def test_a_command_replying_to_a_message_carries_it(tg: FakeTelegram) -> None:
    group = tg.group(-1002, "Group", supergroup=True)
    alice, bob = tg.user(1, "Alice"), tg.user(2, "Bob")
    answer = tg.text_update(group, bob, "rude words")["message"]
    event = event_of(tg.command_update(group, alice, "/report", reply_to=answer))
    assert event is not None and event.reply_to == str(answer["message_id"])


def test_replies_to_our_messages_are_answers(tg: FakeTelegram) -> None:
    group = tg.group(-1003, "Group", supergroup=True)
    alice, bob = tg.user(1, "Alice"), tg.user(2, "Bob")
    ours = bot_message(tg, group)
    reply = event_of(tg.reply_update(group, alice, "More benches", reply_to=ours))
    assert reply is not None and reply.kind is EventKind.REPLY
    assert (reply.text, reply.reply_to, reply.target.thread_id) == ("More benches", "500", None)
    photo = event_of(tg.photo_update(group, alice, caption="This shop", reply_to=ours))
    assert photo is not None and photo.kind is EventKind.REPLY and photo.text == "This shop"

    theirs = tg.text_update(group, bob, "Benches?")["message"]
    not_answers = [
        tg.reply_update(group, alice, "I agree", reply_to=theirs),
        tg.text_update(group, alice, "chatter"),
        tg.sticker_update(group, alice, reply_to=ours),
        tg.photo_update(group, alice, reply_to=ours),
        tg.photo_update(group, alice, caption="   ", reply_to=ours),
        tg.new_chat_members_update(group, [bob]),
        tg.left_chat_member_update(group, bob),
        tg.edited_message_update(theirs, "Benches!"),
        tg.reply_update(group, tg.user(3, "Bot", is_bot=True), "beep", reply_to=ours),
    ]
    assert [event_of(u) for u in not_answers] == [None] * len(not_answers)


def test_forum_topics(tg: FakeTelegram) -> None:
    forum = tg.group(-1004, "Forum", forum=True)
    alice = tg.user(1, "Alice")
    topic = tg.create_topic(forum, "Budget")  # created by the bot: its root is "ours"
    plain = tg.text_update(forum, alice, "Not a reply", thread_id=topic)
    assert plain["message"]["reply_to_message"]["forum_topic_created"]
    assert event_of(plain) is None
    card = {**bot_message(tg, forum, 700), "message_thread_id": topic, "is_topic_message": True}
    reply = event_of(tg.reply_update(forum, alice, "Parks", reply_to=card))
    assert reply is not None and reply.kind is EventKind.REPLY
    assert (reply.reply_to, reply.target.thread_id) == ("700", str(topic))
    command = event_of(tg.command_update(forum, alice, "/help", thread_id=topic))
    assert command is not None and command.target.thread_id == str(topic)
    assert command.reply_to is None  # the topic root is not something replied to


def test_private_text_and_clicks(tg: FakeTelegram) -> None:
    alice = tg.user(1, "Alice")
    chat = tg.private_chat(alice)
    text = event_of(tg.text_update(chat, alice, "hello"))
    assert text is not None and text.kind is EventKind.TEXT and text.target.private

    group = tg.group(-1005, "Group", supergroup=True)
    card = {
        **bot_message(tg, group, 800),
        "reply_markup": {"inline_keyboard": [[{"text": "Yes", "callback_data": "vote:abc123:1"}]]},
    }
    click = event_of(tg.callback_update(alice, card, "vote:abc123:1"))
    assert click is not None and click.kind is EventKind.ACTION
    assert (click.action_id, click.action_value) == ("vote", "abc123:1")
    assert (click.target.channel_id, click.target.message_id) == ("-1005", "800")
    assert not click.target.private


def test_card_html_escapes_everything_people_wrote() -> None:
    card = Card(
        title="Is 1 < 2 & <b>bold</b>?",
        body="Body <i>",
        fields=(("Who <x>", "Me & you"),),
        bars=(ResultBar("A <opt>", 3, 75.0), ResultBar("B", 1, 25.0)),
        footer="Poll abc123 · <3",
    )
    html = card_html(card)
    assert html.startswith("<b>Is 1 &lt; 2 &amp; &lt;b&gt;bold&lt;/b&gt;?</b>")
    assert "Body &lt;i&gt;" in html and "<b>Who &lt;x&gt;:</b> Me &amp; you" in html
    assert "████████░░ 75% · A &lt;opt&gt; (3)" in html
    assert html.endswith("<i>Poll abc123 · &lt;3</i>")
    long = payload(Card("T", body="x" * 10_000))
    assert len(long.text) < 4000
    assert payload(Notice("<not html>")).parse_mode is None


def test_keyboard_and_callback_text() -> None:
    buttons = (
        Button("Yes", "vote", "abc123:1"),
        Button("Answer", "answer", "abc123", opens_form=True),
    )
    markup = keyboard(buttons)
    assert markup is not None
    assert [[b.callback_data for b in row] for row in markup.inline_keyboard] == [
        ["vote:abc123:1"],
        ["answer:abc123"],
    ]
    assert keyboard(()) is None
    assert callback_text([]) is None
    text = callback_text([Notice("y" * 500)])
    assert text is not None and len(text) == 200 and text.endswith("…")


@QUIET_RETRY_AFTER
def test_retry_after_and_webhook_url(monkeypatch: pytest.MonkeyPatch) -> None:
    from telegram.error import RetryAfter

    assert retry_after_seconds(RetryAfter(5)) == 5.0
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    assert retry_after_seconds(RetryAfter(5)) == 5.0
    assert public_url("https://x.example") == "https://x.example/telegram/webhook"
    assert public_url("https://x.example/") == "https://x.example/telegram/webhook"
    assert public_url("https://x.example/hooks/tg") == "https://x.example/hooks/tg"
