"""Shared helpers for the Telegram adapter tests (no tests here).

A :class:`Harness` runs the real core (``Townhall``) with the real :class:`TelegramAdapter`
(python-telegram-bot 22.8 inside) against :class:`tests.fakes.telegram.FakeTelegram`, in
polling or webhook mode, on the test's database and fake clock.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from adapters.telegram import TelegramAdapter
from bot.config import Settings
from handlers import all_specs
from services import results
from storage.db import Database
from storage.items import ItemRepository
from tests.conftest import SECRET
from tests.fakes.telegram import JSON, Call, FakeTelegram
from tests.support import FakeClock
from townhall.app import Townhall

TOKEN = "123456:TEST-fake-token"
BOT_USERNAME = "townhall_test_bot"
OFFICER_ID = 42
WEBHOOK_SECRET = "s3cret_Token-for-tests"
PUBLIC_WEBHOOK = "https://townhall.example.org/telegram/webhook"
WAIT = 15.0  # bound for every wait (slow CI, PostgreSQL)
#: PTB warns when it *raises* RetryAfter without PTB_TIMEDELTA (pytest resets the filter the
#: adapter installs for this); the adapter reads both forms.
QUIET_RETRY_AFTER = pytest.mark.filterwarnings(
    "ignore:.*`retry_after` will be of type:telegram.warnings.PTBDeprecationWarning"
)


@pytest.fixture(name="fake")
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    """A running fake Bot API (import this fixture as ``fake_telegram``; use it as ``fake``)."""
    async with FakeTelegram(token=TOKEN, bot_username=BOT_USERNAME) as server:
        yield server
        server.assert_no_unhandled()


def telegram_settings(db_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db_url,
        "secret_key": SECRET,
        "policy_team": f"telegram:{OFFICER_ID}",
        "refresh_interval": 2.0,
        "env": "test",
        "http_port": 0,
        "_env_file": None,
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class Harness:
    app: Townhall
    adapter: TelegramAdapter
    fake: FakeTelegram
    clock: FakeClock
    webhook: bool

    @property
    def webhook_url(self) -> str:
        return f"http://127.0.0.1:{self.app.http_port}/telegram/webhook"

    async def deliver(self, update: JSON) -> int | None:
        """Hand one update to the bot the way Telegram would in this mode.

        Webhook: returns the HTTP status (the update is fully processed when it returns).
        Polling: queues it for getUpdates and returns None (wait for its effect).
        """
        if self.webhook:
            return await self.fake.post_to_webhook(self.webhook_url, update)
        self.fake.push_update(update)
        return None

    async def deliver_all(self, updates: list[JSON]) -> list[int | None]:
        """Webhook: all at once, as concurrent requests. Polling: queued in order."""
        if self.webhook:
            return list(await asyncio.gather(*(self.deliver(u) for u in updates)))
        return [await self.deliver(u) for u in updates]

    async def command(self, chat: JSON, user: JSON, text: str, **kw: Any) -> Call:
        """Send a command and wait for the bot's reply to it; returns that sendMessage call."""
        update = self.fake.command_update(chat, user, text, **kw)
        await self.deliver(update)
        return await self.reply_to(update)

    async def reply_to(self, update: JSON, count: int = 1) -> Call:
        message_id = update["message"]["message_id"]
        return await self.fake.wait_for_call(
            "sendMessage",
            lambda c: (
                (c.params.get("reply_parameters") or {}).get("message_id") == message_id
                and c.params["chat_id"] == update["message"]["chat"]["id"]
            ),
            count=count,
            timeout=WAIT,
        )

    async def publish(self, chat: JSON, user: JSON, text: str, **kw: Any) -> tuple[str, JSON]:
        """An officer's /poll, /scale or /ask: returns (short id, the card as stored)."""
        call = await self.command(chat, user, text, **kw)
        match = re.search(r"Published \w+ (\w{6})", call.params["text"])
        assert match, call.params["text"]
        await self.app.deliverer.drain()
        card = self.fake.last_sent(chat["id"])
        assert match.group(1) in card["text"], card["text"]
        return match.group(1), card

    async def settle(self) -> None:
        """Polling: wait until every pushed update was fetched (handled or not, its effect is
        then awaited by stopping the app, which finishes what it fetched)."""
        if not self.webhook:
            await self.fake.wait_until_updates_consumed(timeout=WAIT)

    async def tally(self, short_id: str) -> dict[str, Any]:
        """Exactly what ``townhall results ID --json`` prints."""
        return await tally(self.app.db, short_id)


async def tally(db: Database, short_id: str) -> dict[str, Any]:
    async with db.transaction() as session:
        item = await ItemRepository(session).by_short_id(short_id)
        assert item is not None
        return (await results.compute(session, item)).to_json()


async def count_rows(db: Database, model: type) -> int:
    async with db.transaction() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


@asynccontextmanager
async def running(
    fake: FakeTelegram,
    db: Database,
    clock: FakeClock,
    *,
    webhook: bool = False,
    background: bool = False,
    settings: Settings | None = None,
    **adapter_options: Any,
) -> AsyncIterator[Harness]:
    """Start Townhall with the Telegram adapter; stop it (gracefully) on exit."""
    settings = settings or telegram_settings(db.url)
    adapter_options.setdefault("poll_timeout", 5.0)
    adapter_options.setdefault("retry_delays", (0.01, 0.02))
    adapter_options.setdefault("commands", all_specs())
    adapter = TelegramAdapter(
        fake.token,
        api_url=fake.base_url,
        webhook_url=PUBLIC_WEBHOOK if webhook else None,
        webhook_secret=WEBHOOK_SECRET if webhook else None,
        **adapter_options,
    )
    app = Townhall(settings, [adapter], db=db, clock=clock)
    await app.start(serve_http=webhook, background=background)
    harness = Harness(app, adapter, fake, clock, webhook)
    try:
        if not webhook:
            await fake.wait_until_polled(timeout=WAIT)
        yield harness
    finally:
        await app.stop()


def callback_answers_for(fake: FakeTelegram, updates: list[JSON]) -> list[str | None]:
    """The accepted answerCallbackQuery texts for these click updates, in order."""
    found = []
    for update in updates:
        answer = fake.callback_answer(update["callback_query"]["id"])
        found.append(answer.text if answer is not None else None)
    return found


BAR = re.compile(r"^[█░]+ (\d+)% · (.+) \((\d+)\)$", re.MULTILINE)


def bars_of(message: JSON) -> list[tuple[str, int]]:
    """(label, votes) as the message shows them."""
    return [(label, int(votes)) for _pct, label, votes in BAR.findall(message["text"])]


def keyboard_of(message: JSON) -> list[list[tuple[str, str]]]:
    return [
        [(b["text"], b["callback_data"]) for b in row]
        for row in message.get("reply_markup", {}).get("inline_keyboard", [])
    ]
