"""State several workers share through Redis (TOWNHALL_REDIS_URL; 127.0.0.1:6379 here): the
web chat's private messages to visitors and its per-client rate limits."""

from __future__ import annotations

import secrets

from adapters.web import WebChatAdapter
from adapters.web.mailbox import RedisMailbox
from bot.config import Settings
from bot.events import Target
from bot.ratelimit import SharedRateLimiter
from bot.views import Notice

REDIS = "redis://127.0.0.1:6379/0"


def settings() -> Settings:
    return Settings(redis_url=REDIS, _env_file=None)  # type: ignore[call-arg]


async def test_a_message_left_by_one_worker_is_shown_by_another_once() -> None:
    one, two = WebChatAdapter(settings()), WebChatAdapter(settings())
    visitor = f"visitor-{secrets.token_hex(4)}"
    try:
        assert isinstance(one.inbox, RedisMailbox)
        await one.send(Target(visitor, private=True), Notice("Your answer was hidden."))
        await one.send(Target(visitor, private=True), Notice("Second."))
        shown = await two.inbox.collect(visitor)
        assert [view.text for view in shown if isinstance(view, Notice)] == [
            "Your answer was hidden.",
            "Second.",
        ]
        assert await one.inbox.collect(visitor) == []  # shown once
    finally:
        await one.stop()
        await two.stop()


async def test_a_visitor_meets_one_quota_whichever_worker_answers() -> None:
    prefix = f"townhall-test-{secrets.token_hex(4)}"
    one, two = (SharedRateLimiter(2, 60.0, REDIS, prefix=prefix) for _ in range(2))
    assert await one.check("203.0.113.9 visitor") is None
    assert await two.check("203.0.113.9 visitor") is None
    wait = await one.check("203.0.113.9 visitor")
    assert wait is not None and 0 < wait <= 60
    assert await two.check("203.0.113.10 visitor") is None  # another client is not held up
