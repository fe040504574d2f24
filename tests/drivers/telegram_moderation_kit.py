"""Shared set-up for the Telegram moderation and privacy tests (no tests here).

The real core and the real :class:`TelegramAdapter` (python-telegram-bot inside) against the
fake Bot API, with a moderator and an officer from the settings. The fake runs in privacy
mode, like a bot added to a group with BotFather's defaults: in groups it only sees commands
and replies to its own messages, so everything here works without reading group chatter.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from services.exports import rows
from storage.db import Database
from storage.items import ItemRepository
from storage.models import Answer, AuditEntry, OutboxMessage
from tests.drivers.telegram_kit import (
    BOT_USERNAME,
    OFFICER_ID,
    TOKEN,
    WAIT,
    Harness,
    keyboard_of,
    running,
    telegram_settings,
)
from tests.fakes.telegram import JSON, Call, CallbackAnswer, FakeTelegram
from tests.support import FakeClock

__all__ = [
    "BOT_USERNAME",
    "MODERATOR_ID",
    "OFFICER_ID",
    "Mod",
    "answers",
    "audit",
    "exported",
    "keyboard_of",
    "moderated",
    "outbox_sends",
]

MODERATOR_ID = 77
GROUP_ID = -1001000000600
REF = re.compile(r"\bref (A\d+)\b")


@pytest.fixture(name="fake")
async def fake_telegram_in_privacy_mode() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN, bot_username=BOT_USERNAME, privacy_mode=True) as server:
        yield server
        server.assert_no_unhandled()


@dataclass
class Mod:
    """A running Townhall on Telegram with a group, an officer and a moderator in it."""

    h: Harness
    fake: FakeTelegram
    group: JSON
    officer: JSON
    moderator: JSON

    def person(self, user_id: int, name: str, *, started: bool = True) -> JSON:
        """A citizen; ``started``: they opened a private chat with the bot (pressed Start)."""
        user = self.fake.user(user_id, name)
        if started:
            self.fake.private_chat(user)
        return user

    def private(self, user: JSON) -> JSON:
        return self.fake.chat(int(user["id"]))

    async def ask(self, text: str = '/ask "How can we improve the park?"') -> tuple[str, JSON]:
        return await self.h.publish(self.group, self.officer, text)

    async def send(self, chat: JSON, user: JSON, text: str, *, replies: int = 1, **kw: Any) -> JSON:
        """A message (a command, or an answer with ``reply_to=``) and the bot's ``replies``
        replies to it, all delivered; returns the update."""
        if kw.get("reply_to") is not None and not text.startswith("/"):
            update = self.fake.reply_update(chat, user, text, kw.pop("reply_to"), **kw)
        else:
            update = self.fake.command_update(chat, user, text, **kw)
        await self.h.deliver(update)
        await self.h.reply_to(update, count=replies)
        return update

    def replies(self, update: JSON) -> list[str]:
        """The texts of the bot's replies to this message, in order."""
        message = update["message"]
        return [
            c.params["text"]
            for c in self.fake.calls_to("sendMessage")
            if c.ok
            and c.params["chat_id"] == message["chat"]["id"]
            and (c.params.get("reply_parameters") or {}).get("message_id") == message["message_id"]
        ]

    async def answer(self, user: JSON, card: JSON, text: str) -> tuple[str, JSON]:
        """Reply to a question's card; returns the answer's ref (``A12``) and the update."""
        update = await self.send(self.group, user, text, reply_to=card)
        found = REF.search(self.replies(update)[-1])
        assert found, self.replies(update)
        return found.group(1), update

    async def command(
        self, chat: JSON, user: JSON, text: str, *, replies: int = 1, **kw: Any
    ) -> list[str]:
        """Send a command; returns the texts of the bot's replies to it."""
        return self.replies(await self.send(chat, user, text, replies=replies, **kw))

    async def click(self, user: JSON, message: JSON, label: str) -> CallbackAnswer:
        """Press a button on one of the bot's messages; returns the toast it answered."""
        return await self.press(self.fake.button_update(user, message, label))

    async def press(self, update: JSON) -> CallbackAnswer:
        query_id = update["callback_query"]["id"]
        await self.h.deliver(update)
        await self.fake.wait_for_call(
            "answerCallbackQuery",
            lambda c: c.params.get("callback_query_id") == query_id,
            timeout=WAIT,
        )
        answer = self.fake.callback_answer(query_id)
        assert answer is not None
        return answer

    def sent_to(self, chat: JSON, since: int = 0) -> list[Call]:
        """The bot's successful sendMessage calls to a chat after ``since`` (a mark)."""
        return [
            c
            for c in self.fake.calls[since:]
            if c.method == "sendMessage" and c.ok and c.params["chat_id"] == chat["id"]
        ]

    def message_of(self, call: Call) -> JSON:
        found = self.fake.message(call.params["chat_id"], call.result["message_id"])
        assert found is not None
        return found

    def queue_cards(self, chat: JSON, since: int = 0) -> dict[str, JSON]:
        """The moderation queue cards in a chat, by answer ref (``A12``)."""
        cards = {}
        for call in self.sent_to(chat, since):
            message = self.message_of(call)
            title = message["text"].split(" ", 1)[0]
            if re.fullmatch(r"A\d+", title) and keyboard_of(message):
                cards[title] = message
        return cards


@asynccontextmanager
async def moderated(
    fake: FakeTelegram, db: Database, clock: FakeClock, *, webhook: bool = False, **settings: Any
) -> AsyncIterator[Mod]:
    values: dict[str, Any] = {"moderators": f"telegram:{MODERATOR_ID}", "refresh_interval": 0}
    values.update(settings)
    group = fake.group(GROUP_ID, "Parks consultation")
    officer = fake.user(OFFICER_ID, "Olivia")
    moderator = fake.user(MODERATOR_ID, "Maya")
    fake.private_chat(moderator)
    config = telegram_settings(db.url, **values)
    async with running(fake, db, clock, webhook=webhook, settings=config) as h:
        yield Mod(h, fake, group, officer, moderator)


async def answers(db: Database) -> list[Answer]:
    async with db.transaction() as session:
        return list((await session.execute(select(Answer).order_by(Answer.id))).scalars())


async def audit(db: Database) -> list[tuple[str, str, str]]:
    async with db.transaction() as session:
        entries = (await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars()
        return [(e.actor, e.action, e.target) for e in entries]


async def exported(db: Database, short_id: str) -> list[dict[str, Any]]:
    """What ``townhall export`` writes, hidden answers included."""
    async with db.transaction() as session:
        item = await ItemRepository(session).by_short_id(short_id)
        assert item is not None
        return await rows(session, item, include_hidden=True)


async def outbox_sends(db: Database, channel_id: int) -> list[OutboxMessage]:
    async with db.transaction() as session:
        query = (
            select(OutboxMessage)
            .where(OutboxMessage.op == "send", OutboxMessage.channel_id == str(channel_id))
            .order_by(OutboxMessage.id)
        )
        return list((await session.execute(query)).scalars())
