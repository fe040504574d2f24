"""The Telegram driver: the real python-telegram-bot (webhook mode) against the fake Bot API.

Everyone is in one group with the bot in privacy mode (BotFather's default) and has opened a
private chat with it. What is for one person (a copy of their data, a consent card, the
moderation queue) arrives in that private chat.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from storage.db import Database
from tests.drivers.base import CITIZENS, Records, is_start, published_id, ref_in
from tests.drivers.telegram_kit import BOT_USERNAME, OFFICER_ID, TOKEN, running, telegram_settings
from tests.fakes.telegram import JSON, FakeTelegram
from tests.support import FakeClock
from townhall.app import Townhall

GROUP_ID = -1001000000900
MODERATOR_ID = 77
IDS = {"officer": OFFICER_ID, "mod": MODERATOR_ID} | {
    name: 7001 + n for n, name in enumerate(CITIZENS)
}


class TelegramDriver(Records):
    platform = "telegram"

    def __init__(self, app: Townhall, fake: FakeTelegram, webhook_url: str) -> None:
        self.app = app
        self.fake = fake
        self.webhook_url = webhook_url
        self.group = fake.group(GROUP_ID, "Library consultation")
        self.users = {name: fake.user(uid, name.title()) for name, uid in IDS.items()}
        for user in self.users.values():
            fake.private_chat(user)
        self.cards: dict[str, JSON] = {}
        self.written: dict[str, JSON] = {}  # answer ref -> the message that holds it

    # -- plumbing ----------------------------------------------------------------------------
    def private(self, who: str) -> JSON:
        return self.fake.chat(IDS[who])

    async def deliver(self, update: JSON, times: int = 1) -> None:
        for _ in range(times):
            assert await self.fake.post_to_webhook(self.webhook_url, update) == 200
        await self.app.deliverer.drain()

    def told(self, who: str, since: int) -> str:
        """What ``who`` read after ``since``: bot messages in the group and in their private
        chat, and the toasts answering their button presses."""
        chats = {self.group["id"], IDS[who]}
        out = []
        for call in self.fake.calls[since:]:
            if not call.ok:
                continue
            if call.method == "sendMessage" and call.params["chat_id"] in chats:
                out.append(str(call.result.get("text", "")))  # as shown, markup parsed
            elif call.method == "answerCallbackQuery" and call.params.get("text"):
                out.append(str(call.params["text"]))
        return "\n".join(out)

    async def command(self, who: str, text: str, *, private: bool = False, **kw: Any) -> str:
        chat = self.private(who) if private else self.group
        since = self.fake.mark()
        await self.deliver(self.fake.command_update(chat, self.users[who], text, **kw))
        return self.told(who, since)

    async def press(self, who: str, message: JSON, label: str, times: int = 1) -> str:
        since = self.fake.mark()
        await self.deliver(self.fake.button_update(self.users[who], message, label), times)
        return self.told(who, since)

    def last_with_button(self, chat_id: int, label: str) -> JSON:
        for message in reversed(self.fake.messages(chat_id, from_bot=True)):
            rows = message.get("reply_markup", {}).get("inline_keyboard", [])
            said = [str(b.get("text")) for row in rows for b in row]
            if label in said or (label == "Start" and any(map(is_start, said))):
                return message
        raise AssertionError(f"no message with a {label!r} button in chat {chat_id}")

    # -- the protocol ------------------------------------------------------------------------
    async def publish(self, command: str) -> str:
        told = await self.command("officer", f"/{command}")
        item = published_id(told)
        self.cards[item] = self.fake.last_sent(self.group["id"])
        return item

    async def vote(self, who: str, item: str, position: int, *, deliveries: int = 1) -> str:
        card = self.fake.message(self.group["id"], self.cards[item]["message_id"])
        assert card is not None
        data = f"vote:{item}:{position}"
        since = self.fake.mark()
        # check_keyboard=False: a closed card may still show its buttons on someone's screen
        update = self.fake.callback_update(self.users[who], card, data, check_keyboard=False)
        await self.deliver(update, deliveries)
        return self.told(who, since)

    async def answer(self, who: str, item: str, text: str) -> str:
        since = self.fake.mark()
        update = self.fake.reply_update(self.group, self.users[who], text, self.cards[item])
        await self.deliver(update)
        told = self.told(who, since)
        if "ref A" in told:
            self.written[ref_in(told)] = update["message"]
        return told

    async def opinions(self, who: str, item: str) -> str:
        card = self.fake.message(self.group["id"], self.cards[item]["message_id"])
        assert card is not None
        return await self.press(who, card, "Vote on statements")

    async def refused(self, who: str, item: str) -> str:
        return await self.command(who, f"/close {item}")

    async def report(self, who: str, ref: str) -> str:
        return await self.command(who, "/report", reply_to=self.written[ref])

    async def queue(self) -> list[str]:
        since = self.fake.mark()
        await self.command("mod", f"/flagged@{BOT_USERNAME}", private=True)
        return [
            str(c.result.get("text", "")).split(" ", 1)[0]
            for c in self.fake.calls[since:]
            if c.method == "sendMessage" and c.ok and c.params.get("reply_markup")
        ]

    async def decide(self, ref: str, label: str) -> str:
        for message in reversed(self.fake.messages(MODERATOR_ID, from_bot=True)):
            if message.get("text", "").startswith(f"{ref} "):
                return await self.press("mod", message, label)
        raise AssertionError(f"no queue card for {ref}")

    async def moderate(self, who: str, command: str) -> str:
        return await self.command(who, f"/{command}")

    async def forge(self, who: str, ref: str, label: str) -> str:
        since = self.fake.mark()
        data = f"mod:{label.lower()}:{ref[1:]}"
        # on a card of ours with no such button (callback data is easily forged)
        card = self.fake.message(self.group["id"], list(self.cards.values())[-1]["message_id"])
        assert card is not None
        await self.deliver(
            self.fake.callback_update(self.users[who], card, data, check_keyboard=False)
        )
        return self.told(who, since)

    async def agree(self, who: str) -> str:
        return await self.press(who, self.last_with_button(IDS[who], "I agree"), "I agree")

    async def decline(self, who: str) -> str:
        return await self.press(who, self.last_with_button(IDS[who], "No thanks"), "No thanks")

    async def platform_says(self, who: str, language: str) -> bool:
        self.users[who] = self.fake.user(IDS[who], who.title(), language_code=language)
        return True

    async def mydata(self, who: str) -> str:
        return await self.command(who, "/mydata", private=True)

    async def forget(self, who: str, *, confirm: bool = True) -> str:
        await self.command(who, "/forget", private=True)
        label = "Yes, erase it" if confirm else "Cancel"
        return await self.press(who, self.last_with_button(IDS[who], label), label)

    async def close(self, item: str) -> str:
        return await self.command("officer", f"/close {item}")

    async def shown(self, item: str) -> str:
        await self.app.deliverer.drain()
        return "\n".join(
            m.get("text", "") for m in self.fake.messages(self.group["id"], from_bot=True)
        )

    # -- consultations: the Start button in the group, then the private chat ------------------
    async def officer(self, command: str) -> str:
        return await self.command("officer", f"/{command}")

    async def start(self, who: str, slug: str) -> str:
        """Start under the group's introduction is a deep link: Telegram opens the private
        chat and sends ``/start SLUG`` there."""
        intro = self.last_with_button(self.group["id"], "Start")
        rows = intro["reply_markup"]["inline_keyboard"]
        (url,) = [b["url"] for row in rows for b in row if is_start(str(b.get("text")))]
        assert url == f"https://t.me/{BOT_USERNAME}?start={slug}", url
        return await self.command(who, f"/start {slug}", private=True)

    async def tap(self, who: str, label: str) -> str:
        return await self.press(who, self.last_with_button(IDS[who], label), label)

    async def write(self, who: str, label: str, text: str) -> str:
        """No forms on Telegram: the button asks for the text, the next message gives it."""
        asked = await self.tap(who, label)
        assert "next message" in asked, asked
        since = self.fake.mark()
        await self.deliver(self.fake.text_update(self.private(who), self.users[who], text))
        return self.told(who, since)


@asynccontextmanager
async def telegram_driver(
    db: Database, clock: FakeClock, **settings: Any
) -> AsyncIterator[TelegramDriver]:
    values: dict[str, Any] = {"moderators": f"telegram:{MODERATOR_ID}", "refresh_interval": 0}
    values.update(settings)
    async with FakeTelegram(token=TOKEN, bot_username=BOT_USERNAME, privacy_mode=True) as fake:
        config = telegram_settings(db.url, **values)
        async with running(fake, db, clock, webhook=True, settings=config) as harness:
            yield TelegramDriver(harness.app, fake, harness.webhook_url)
        fake.assert_no_unhandled()
