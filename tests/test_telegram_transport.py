"""adapters/telegram/http.py: PTB's Bot over one aiohttp session maps failures as PTB's httpx
transport does, so the outbox treats them the same (errors.delivery_error)."""

from __future__ import annotations

import asyncio

import pytest
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from adapters.telegram.errors import delivery_error
from adapters.telegram.http import AiohttpRequest
from tests.drivers.telegram_kit import QUIET_RETRY_AFTER, fake_telegram  # noqa: F401 - a fixture
from tests.fakes.telegram import FakeTelegram

pytestmark = [pytest.mark.timeout(30), QUIET_RETRY_AFTER]


def bot_for(fake: FakeTelegram, request: AiohttpRequest) -> Bot:
    return Bot(fake.token, base_url=fake.base_url, request=request, get_updates_request=request)


@pytest.mark.parametrize(
    ("status", "raised"),
    [(429, RetryAfter), (403, Forbidden), (400, BadRequest), (502, NetworkError)],
)
async def test_telegram_answers_become_ptbs_exceptions(
    fake: FakeTelegram, status: int, raised: type[TelegramError]
) -> None:
    async with bot_for(fake, AiohttpRequest()) as bot:
        fake.fail_next("getMe", status=status)
        with pytest.raises(raised):
            await bot.get_me()
        assert (await bot.get_me()).username == fake.bot_username  # the session still works


async def test_a_full_pool_is_a_retriable_timeout_and_a_late_answer_an_uncertain_one(
    fake: FakeTelegram,
) -> None:
    request = AiohttpRequest(connection_pool_size=1, pool_timeout=0.05, read_timeout=0.2)
    async with bot_for(fake, request) as bot:
        fake.slow_next("getMe", 0.6)
        before = len(fake.calls_to("getMe"))  # initialize() made one
        first = asyncio.ensure_future(bot.get_me())
        await fake.wait_for(lambda: len(fake.calls_to("getMe")) > before, what="the slow getMe")
        with pytest.raises(TimedOut) as full:  # never sent: the one slot is taken
            await bot.get_me(read_timeout=5)
        assert len(fake.calls_to("getMe")) == before + 1
        assert not delivery_error(full.value, posting=True).uncertain
        with pytest.raises(TimedOut) as late:  # sent, answered after the read timeout
            await first
        assert delivery_error(late.value, posting=True).uncertain


async def test_closed_transport_refuses_and_shutdown_twice_is_harmless(fake: FakeTelegram) -> None:
    request = AiohttpRequest()
    bot = bot_for(fake, request)
    await bot.initialize()  # initialises the one request object twice (both roles)
    await bot.shutdown()
    await request.shutdown()
    with pytest.raises(RuntimeError):
        await request.do_request(fake.api_url + "/getMe", "POST")
