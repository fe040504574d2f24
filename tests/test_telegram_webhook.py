"""Webhook mode, and what happens when the database cannot take an update.

Telegram POSTs updates to ``/telegram/webhook`` on Townhall's own server. Only requests with the
secret token we registered are processed; 200 is answered only after the effect is committed,
500 when it could not be (Telegram then sends the update again).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from adapters.telegram import TelegramAdapter, from_settings
from bot.adapter import Outcome
from bot.config import ConfigError, load_settings
from bot.events import Event
from storage.db import Database
from storage.models import Answer, Item, ProcessedEvent, Vote
from tests.drivers.telegram_kit import (  # noqa: F401 - fake_telegram is a fixture
    OFFICER_ID,
    PUBLIC_WEBHOOK,
    WAIT,
    WEBHOOK_SECRET,
    Harness,
    count_rows,
    fake_telegram,
    running,
    telegram_settings,
)
from tests.fakes.telegram import JSON, FakeTelegram
from tests.support import FakeClock

pytestmark = pytest.mark.timeout(60)


async def post_raw(url: str, body: bytes, headers: dict[str, str]) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as r,
    ):
        return r.status


async def test_only_requests_with_the_secret_are_processed(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    group = fake.group(-1001000000020, "Town square")
    officer = fake.user(OFFICER_ID, "Olivia")
    async with running(fake, db, clock, webhook=True) as h:
        assert fake.webhook.url == PUBLIC_WEBHOOK
        assert fake.webhook.secret_token == WEBHOOK_SECRET
        assert fake.webhook.allowed_updates == ["message", "callback_query"]
        assert fake.calls_to("getUpdates") == []

        update = fake.command_update(group, officer, '/poll "Q?" "A" "B"')
        assert await fake.post_to_webhook(h.webhook_url, update, secret="wrong") == 403
        assert await fake.post_to_webhook(h.webhook_url, update, secret=None) == 403
        assert await fake.post_to_webhook(h.webhook_url, update, secret=WEBHOOK_SECRET[:-1]) == 403
        good = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
        body = json.dumps(update).encode()
        not_json = {**good, "Content-Type": "application/x-www-form-urlencoded"}
        assert await post_raw(h.webhook_url, body, not_json) == 403
        assert (
            await post_raw(h.webhook_url, b"{", {**good, "Content-Type": "application/json"}) == 400
        )
        assert await count_rows(db, ProcessedEvent) == 0
        assert fake.calls_to("sendMessage") == []

        assert await fake.post_to_webhook(h.webhook_url, update) == 200
        # 200 came after the commit: the notice was sent and the item exists already
        assert await count_rows(db, Item) == 1
        assert "Published poll" in fake.calls_to("sendMessage")[-1].params["text"]
        assert await fake.post_to_webhook(h.webhook_url, update) == 200  # redelivered
        assert await count_rows(db, Item) == 1
        assert len(fake.calls_to("sendMessage")) == 1

        # an update this PTB version cannot read is acknowledged and dropped, not retried forever
        odd = {"update_id": update["update_id"] + 1, "message": {"text": "no chat, no date"}}
        assert await fake.post_to_webhook(h.webhook_url, odd) == 200
        assert await count_rows(db, ProcessedEvent) == 1


def failing(h: Harness, times: int) -> list[Event]:
    """Make the next ``times`` dispatches fail as if the database were down."""
    real: Callable[[Event], Awaitable[Outcome]] = h.app.dispatcher
    seen: list[Event] = []

    async def flaky(event: Event) -> Outcome:
        seen.append(event)
        if len(seen) <= times:
            raise ConnectionRefusedError("database is down")
        return await real(event)

    h.app.dispatcher = flaky  # type: ignore[assignment]
    return seen


async def test_webhook_answers_500_until_the_update_is_committed(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    group = fake.group(-1001000000021, "Town square")
    officer, ann = fake.user(OFFICER_ID, "Olivia"), fake.user(5001, "Ann")
    async with running(fake, db, clock, webhook=True) as h:
        poll, card = await h.publish(group, officer, '/poll "Q?" "A" "B"')
        click = fake.button_update(ann, card, "B")
        seen = failing(h, times=1)
        assert await h.deliver(click) == 500
        assert await count_rows(db, Vote) == 0
        apology = fake.callback_answers[-1]
        assert apology.text is not None and "try again" in apology.text
        assert await h.deliver(click) == 200  # Telegram delivers it again
        assert len(seen) == 2
        assert (await h.tally(poll))["options"][1] == {"label": "B", "votes": 1}

        seen = failing(h, times=1)
        reply = fake.reply_update(group, ann, "An answer to a poll card", reply_to=card)
        sent = len(fake.calls_to("sendMessage"))
        assert await h.deliver(reply) == 500
        assert len(fake.calls_to("sendMessage")) == sent  # no apology: it will come again
        assert await h.deliver(reply) == 200
        assert "buttons" in fake.calls_to("sendMessage")[-1].params["text"]


async def test_polling_keeps_an_update_until_it_is_committed(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    """Polling: a short blip is retried in process; a longer outage keeps the update
    unconfirmed (the offset does not move past it) until it commits. It used to be dropped
    with an apology once the in-process retries ran out."""
    group = fake.group(-1001000000022, "Town square")
    officer, ann = fake.user(OFFICER_ID, "Olivia"), fake.user(5002, "Ann")
    async with running(fake, db, clock) as h:
        question, card = await h.publish(group, officer, '/ask "Why?"')
        seen = failing(h, times=2)  # fewer failures than retries: it gets through
        first = fake.reply_update(group, ann, "Because", reply_to=card)
        await h.deliver(first)
        thanks = await h.reply_to(first)
        assert "recorded" in thanks.params["text"] and len(seen) == 3

        seen = failing(h, times=7)  # the outage outlasts the retries
        second = fake.reply_update(group, ann, "Also because", reply_to=card)
        await h.deliver(second)
        saved = await h.reply_to(second)
        assert "recorded" in saved.params["text"] and len(seen) == 8
        assert not [c for c in fake.calls_to("sendMessage") if "could not save" in str(c.params)]
        result = await h.tally(question)
    assert [a["text"] for a in result["answers"]] == ["Because", "Also because"]
    assert await count_rows(db, Answer) == 2


async def test_webhook_before_start_answers_503(fake: FakeTelegram) -> None:
    adapter = TelegramAdapter(
        fake.token, api_url=fake.base_url, webhook_url=PUBLIC_WEBHOOK, webhook_secret=WEBHOOK_SECRET
    )
    web_app = web.Application()
    web_app.add_routes(adapter.http_routes())
    runner = web.AppRunner(web_app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        update: JSON = {"update_id": 1}
        url = f"http://127.0.0.1:{port}/telegram/webhook"
        assert await fake.post_to_webhook(url, update, secret=WEBHOOK_SECRET) == 503
    finally:
        await runner.cleanup()


def test_webhook_configuration(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("TOWNHALL_TELEGRAM_WEBHOOK_URL", "TOWNHALL_TELEGRAM_WEBHOOK_SECRET"):
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(ConfigError, match="TOWNHALL_TELEGRAM_WEBHOOK_SECRET must be set"):
        load_settings(telegram_webhook_url="https://x.example/", _env_file=None)
    with pytest.raises(ConfigError, match="1-256 characters"):
        load_settings(
            telegram_webhook_url="https://x.example/",
            telegram_webhook_secret="has spaces",
            _env_file=None,
        )
    settings: Any = telegram_settings(
        db_url,
        telegram_token="1:x",
        telegram_webhook_url="https://townhall.example.org",
        telegram_webhook_secret=WEBHOOK_SECRET,
    )
    adapter = from_settings(settings)
    assert adapter.webhook_mode
    assert [r.path for r in adapter.http_routes()] == ["/telegram/webhook"]
    polling = from_settings(telegram_settings(db_url, telegram_token="1:x"))
    assert not polling.webhook_mode and polling.http_routes() == []


async def test_start_fails_clearly(fake: FakeTelegram) -> None:
    async def dispatch(_event: Event) -> Outcome:
        raise AssertionError("nothing is dispatched")

    wrong = TelegramAdapter("999:WRONG", api_url=fake.base_url)
    with pytest.raises(RuntimeError, match=r"getMe failed \(InvalidToken\)") as failed:
        await wrong.start(dispatch)
    assert "WRONG" not in str(failed.value)

    fake.fail_next("setWebhook", status=400, description="Bad Request: bad webhook: nope")
    hooked = TelegramAdapter(
        fake.token, api_url=fake.base_url, webhook_url=PUBLIC_WEBHOOK, webhook_secret=WEBHOOK_SECRET
    )
    with pytest.raises(RuntimeError, match=r"(?i)bad webhook"):
        await hooked.start(dispatch)
    await hooked.stop()  # nothing left to stop: a no-op


async def test_a_first_vote_is_answered_in_the_response_and_its_notice_sent_later(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    """The privacy notice that comes with a first vote does not fit a toast: it is written to
    the outbox with the vote and delivered by the outbox worker, while the click itself is
    answered in the webhook's response body (no outbound request on the request path)."""
    group = fake.group(-1001000000023, "Town square")
    officer, ann = fake.user(OFFICER_ID, "Olivia"), fake.user(5003, "Ann")
    fake.private_chat(ann)
    async with running(fake, db, clock, webhook=True) as h:
        poll, card = await h.publish(group, officer, '/poll "Q?" "A" "B"')
        sends = len(fake.calls_to("sendMessage"))
        answers = len(fake.calls_to("answerCallbackQuery"))
        first = fake.button_update(ann, card, "A")
        assert await h.deliver(first) == 200
        assert len(fake.calls_to("sendMessage")) == sends  # nothing sent while Telegram waited
        assert len(fake.calls_to("answerCallbackQuery")) == answers + 1  # the response body
        answer = fake.callback_answer(first["callback_query"]["id"])
        assert answer is not None and answer.text is not None
        assert "recorded" in answer.text
        assert h.app.settings.privacy_url in answer.text
        assert (await h.tally(poll))["options"][0] == {"label": "A", "votes": 1}

        await h.app.deliverer.drain()
        notice = fake.last_sent(ann["id"])
        assert notice["text"].startswith(h.app.settings.privacy_notice[:40])

        again = fake.button_update(ann, card, "B")  # no notice with a later vote
        assert await h.deliver(again) == 200
        answer = fake.callback_answer(again["callback_query"]["id"])
        assert answer is not None and answer.text == "Your vote is now “B”."
        await h.app.deliverer.drain()
        assert fake.last_sent(ann["id"]) == notice
