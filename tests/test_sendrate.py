"""The outbox's platform send rates (bot/sendrate.py, the ``limits`` library) and its claims:
a row is attempted only by the worker whose claim it holds, and the platform's message id is
recorded with the completion. Redis at 127.0.0.1:6379 (the shared budget) as in production."""

from __future__ import annotations

import secrets
import time
from datetime import timedelta

from bot.adapter import Capabilities, SendRates
from bot.config import Settings
from bot.events import Target
from bot.sendrate import InlineMemoryStorage, SendLimiter
from bot.testing import RecordingAdapter
from bot.views import Notice, view_to_dict
from storage.db import Database
from storage.leases import LeaseRepository
from storage.models import OutboxMessage
from storage.outbox import OutboxRepository
from tests.support import FakeClock
from townhall.app import Townhall

TELEGRAM = SendRates(
    overall="30/second", per_chat="1/second", per_group="3/minute", group_prefix="-"
)
REDIS = "redis://127.0.0.1:6379/0"


def test_a_group_and_a_private_chat_count_against_different_limits() -> None:
    limiter = SendLimiter()
    group = limiter.buckets("telegram", TELEGRAM, Target("-100123"))
    private = limiter.buckets("telegram", TELEGRAM, Target("42"))
    dm_to_member = limiter.buckets("telegram", TELEGRAM, Target("-100123", private=True))
    assert [str(item) for item, *_ in group] == ["30 per 1 second", "3 per 1 minute"]
    assert [str(item) for item, *_ in private] == ["30 per 1 second", "1 per 1 second"]
    assert [str(item) for item, *_ in dm_to_member] == ["30 per 1 second", "1 per 1 second"]


async def test_a_spent_budget_says_how_long_to_wait_and_counts_nothing() -> None:
    limiter = SendLimiter()
    group = Target("-100123")
    for _ in range(3):
        assert await limiter.acquire("telegram", TELEGRAM, group, max_wait=0) == 0.0
    wait = await limiter.acquire("telegram", TELEGRAM, group, max_wait=0)
    assert 0 < wait <= 60
    # another chat is not held up, and the refused attempt took nothing from the overall
    assert await limiter.acquire("telegram", TELEGRAM, Target("-100999"), max_wait=0) == 0.0
    assert not await limiter.acquire("telegram", SendRates(), group, max_wait=0)


async def test_the_memory_budget_expires_inline_without_a_thread_per_key() -> None:
    limiter = SendLimiter()
    storage = limiter.strategy.storage
    assert isinstance(storage, InlineMemoryStorage)
    for chat in ("1", "2", "3"):
        assert await limiter.acquire("telegram", TELEGRAM, Target(chat), max_wait=0) == 0.0
    assert storage.timer is None  # limits' own expiry task (a thread hop per key) never ran
    assert set(storage.events) == {"LIMITER/telegram/all/30/1/second"} | {
        f"LIMITER/telegram/chat:{chat}/1/1/second" for chat in ("1", "2", "3")
    }
    storage.sweep(time.time() + 2)  # every window here lasts a second
    assert not storage.events and not storage.locks


async def test_workers_share_one_budget_through_redis() -> None:
    prefix = f"townhall-test-{secrets.token_hex(4)}"
    one, two = (SendLimiter(REDIS, prefix=prefix) for _ in range(2))
    assert one.shared
    group = Target("-100123")
    assert await one.acquire("telegram", TELEGRAM, group, max_wait=0) == 0.0
    assert await two.acquire("telegram", TELEGRAM, group, max_wait=0) == 0.0
    assert await one.acquire("telegram", TELEGRAM, group, max_wait=0) == 0.0
    assert await two.acquire("telegram", TELEGRAM, group, max_wait=0) > 0  # the third was one's


async def test_switched_off_it_never_waits() -> None:
    limiter = SendLimiter(enabled=False)
    for _ in range(10):
        assert await limiter.acquire("telegram", TELEGRAM, Target("7"), max_wait=0) == 0.0


async def test_only_the_claim_holder_attempts_a_row_and_the_message_id_is_recorded(
    db: Database, clock: FakeClock
) -> None:
    now = clock()
    async with db.transaction() as session:
        await OutboxRepository(session).send(
            platform="telegram", channel_id="42", view={"kind": "notice", "text": "hi"}, at=now
        )
    async with db.transaction() as session:
        outbox = OutboxRepository(session)
        [row] = await outbox.claim_due(now, ["telegram"])
        await outbox.lease([row.id], "worker-a:1", now + timedelta(seconds=10), now)
    # worker a stalls past its claim; worker b claims the row again
    later = now + timedelta(seconds=11)
    async with db.transaction() as session:
        outbox = OutboxRepository(session)
        [again] = await outbox.claim_due(later, ["telegram"])
        await outbox.lease([again.id], "worker-b:1", later + timedelta(seconds=10), later)
    async with db.transaction() as session:
        outbox = OutboxRepository(session)
        assert not await outbox.start_attempt(row.id, "worker-a:1", later, "in flight")
        assert await outbox.start_attempt(row.id, "worker-b:1", later, "in flight")
        await outbox.mark_sent(row.id, later, "777")
    async with db.transaction() as session:
        stored = await session.get(OutboxMessage, row.id)
        assert stored is not None
        assert (stored.status, stored.platform_message_id) == ("sent", "777")


async def test_a_lease_moves_only_once_it_has_expired(db: Database, clock: FakeClock) -> None:
    now, ttl = clock(), timedelta(seconds=6)
    async with db.transaction() as session:
        leases = LeaseRepository(session)
        assert await leases.claim(["polling", "scheduler"], "a", now, ttl) == {
            "polling",
            "scheduler",
        }
        assert await leases.claim(["polling", "scheduler"], "b", now + ttl / 2, ttl) == set()
        assert await leases.claim(["polling"], "a", now + ttl / 2, ttl) == {"polling"}  # renewed
        # "a" stops renewing the scheduler: it expires and "b" takes it, not the renewed one
        later = now + ttl + timedelta(seconds=1)
        assert await leases.claim(["polling", "scheduler"], "b", later, ttl) == {"scheduler"}
        await leases.release(["polling", "scheduler"], "a")
        assert set(await leases.holders()) == {"scheduler"}


class PacedAdapter(RecordingAdapter):
    """A platform allowing one message a minute per chat."""

    capabilities = Capabilities(send_rates=SendRates(per_chat="1/minute"))


async def test_a_chat_with_its_budget_spent_waits_in_the_queue_not_in_the_pass(
    settings: Settings, db: Database, clock: FakeClock
) -> None:
    adapter = PacedAdapter()
    app = Townhall(settings, [adapter], db=db, clock=clock)
    await app.start(serve_http=False, background=False)
    try:
        async with db.transaction() as session:
            outbox = OutboxRepository(session)
            for chat, text in (("g", "first"), ("g", "second"), ("h", "other")):
                view = view_to_dict(Notice(text))
                await outbox.send(platform="test", channel_id=chat, view=view, at=clock())
        await app.deliverer.drain()
        assert sorted(str(getattr(s.view, "text", "")) for s in adapter.sent) == [
            "first",
            "other",
        ]
        async with db.transaction() as session:
            [waiting] = await OutboxRepository(session).pending("test")
        assert (waiting.channel_id, waiting.claim, waiting.last_error) == ("g", None, None)
        assert waiting.due_at > clock() + timedelta(seconds=50)  # when the minute is over
    finally:
        await app.stop()
