"""Platform send limits for the outbox, kept with the ``limits`` library.

One limiter for every platform: each adapter declares its documented limits
(``Capabilities.send_rates``: Telegram's 30 messages a second overall, one a second per
private chat, 20 a minute per group; Discord's global and per-channel buckets; Slack's tiers),
and the outbox waits for a slot under each of them before a send. The counts live in Redis when
``TOWNHALL_REDIS_URL`` is set, so every worker shares one budget (``limits``' moving window is
one atomic Lua script there); otherwise in this process's memory. A 429 from the platform is
still honoured row by row (``retry_after``): the limiter only keeps us from causing them.

Why ``limits``: a maintained library (since 2015) with the moving-window algorithm that
matches "N per second" exactly, async storages for memory and Redis (redis-py's asyncio client)
behind one interface, and limit strings ("20/minute") that read like the platforms' own docs.
``aiolimiter`` is a fine in-process leaky bucket, but has no shared storage.

Several workers without Redis share the budget in PostgreSQL instead
(``TOWNHALL_SHARED_STATE``): the same moving windows, each a row holding its sends' times
(``storage.shared.SendWindows``), counted by one atomic upsert on the database's clock.
"""

from __future__ import annotations

import asyncio
import hashlib
import time

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from bot.adapter import SendRates
from bot.events import Target
from storage.db import Database
from storage.shared import SendWindows

#: Never sleep less than this between tries (another worker may take a freed slot first).
MIN_WAIT = 0.002
#: Sends are spaced evenly at the overall rate slowed by this share, and a freed slot is taken
#: this long after it frees: our sends reach the platform with varying delays, and one counting
#: arrivals must not see one too many in its window. A moving window alone lets a whole
#: second's budget go at once, every second, and one send in ten met a 429 at a strict limit.
SLACK = 0.02


#: How often the in-process storage drops expired windows (seconds).
SWEEP_EVERY = 1.0
#: How often one process deletes the database's expired windows (seconds).
PRUNE_EVERY = 60.0


class InlineMemoryStorage(MemoryStorage):
    """``limits``' in-process async storage, dropping expired entries inline once a second.

    Its own expiry task (``limits`` 5.x) hops to a thread (``asyncio.to_thread``) for every key
    on every call that schedules it: with one key per private chat (a burst of first votes, each
    with a privacy notice to its own chat) that was 15 % of the server's samples under load
    (docs/performance.md). The moving window reads only unexpired entries anyway, so the
    sweep is housekeeping: done synchronously (nothing awaits while it runs, so no lock is
    needed), at most once per :data:`SWEEP_EVERY`.
    """

    def __init__(self) -> None:
        super().__init__()
        self._swept = 0.0

    async def _MemoryStorage__schedule_expiry(self) -> None:  # limits' private hook
        now = time.time()
        if now - self._swept >= SWEEP_EVERY:
            self._swept = now
            self.sweep(now)

    def sweep(self, now: float) -> None:
        """Drop the entries and counters that expired by ``now``."""
        for key, events in list(self.events.items()):
            live = [entry for entry in events if entry.expiry > now]
            if live:
                self.events[key] = live
            else:
                del self.events[key]
                self.locks.pop(key, None)
        for key, expires in list(self.expirations.items()):
            if expires <= now:
                self.storage.pop(key, None)
                del self.expirations[key]
                self.locks.pop(key, None)


class SendLimiter:
    """``enabled=False`` keeps no limits (a bot with raised limits, or simulated time).

    The budget lives in Redis with ``redis_url``, else in the database with ``db``
    (PostgreSQL), else in this process's memory.
    """

    def __init__(
        self,
        redis_url: str | None = None,
        *,
        prefix: str = "townhall",
        enabled: bool = True,
        db: Database | None = None,
    ) -> None:
        self.enabled = enabled
        #: The database keeping the budget (when there is no Redis).
        self.db = db if redis_url is None else None
        self._pruned = 0.0
        storage: Storage = (
            RedisStorage(redis_url, implementation="redispy", key_prefix=prefix)
            if redis_url
            else InlineMemoryStorage()
        )
        self.shared = redis_url is not None or self.db is not None
        self.strategy = MovingWindowRateLimiter(storage)
        self._parsed: dict[str, RateLimitItem] = {}
        #: When this process may next send on each platform (time.monotonic()).
        self._next: dict[str, float] = {}

    def _item(self, limit: str) -> RateLimitItem:
        item = self._parsed.get(limit)
        if item is None:
            item = self._parsed[limit] = parse(limit)
        return item

    def buckets(
        self, platform: str, rates: SendRates, target: Target
    ) -> list[tuple[RateLimitItem, str, str]]:
        """The limits one send to ``target`` counts against, each with its key."""
        out = []
        if rates.overall:
            out.append((self._item(rates.overall), platform, "all"))
        group = bool(rates.group_prefix) and target.channel_id.startswith(rates.group_prefix or "")
        chat = rates.per_group if group and not target.private else rates.per_chat
        if chat:
            out.append((self._item(chat), platform, f"chat:{target.channel_id}"))
        return out

    def reserve(self, platform: str, rates: SendRates) -> float:
        """This process's next evenly spaced moment to send on ``platform`` (a
        ``time.monotonic()`` value, taken for the caller): sends spread over the second
        instead of leaving together."""
        now = time.monotonic()
        if not self.enabled or not rates.overall:
            return now
        item = self._item(rates.overall)
        slot = max(now, self._next.get(platform, now))
        self._next[platform] = slot + item.get_expiry() / item.amount * (1 + SLACK)
        return slot

    async def acquire(
        self,
        platform: str,
        rates: SendRates,
        target: Target,
        *,
        max_wait: float = 1.0,
        slot: float | None = None,
    ) -> float:
        """Wait until a send to ``target`` fits every limit (from ``slot``, one
        :meth:`reserve` gave, else a new one) and count it: returns 0.0. When that would take
        longer than ``max_wait`` seconds, count nothing and return how long it would take (the
        outbox then makes the row due later and goes on with others)."""
        if not self.enabled:
            return 0.0
        buckets = self.buckets(platform, rates, target)
        await pause_until(self.reserve(platform, rates) if slot is None else slot)
        if self.db is not None:
            return await self._acquire_in_database(self.db, buckets, max_wait)
        while True:
            wait = 0.0
            for item, *keys in buckets:
                if not await self.strategy.test(item, *keys):
                    stats = await self.strategy.get_window_stats(item, *keys)
                    wait = max(wait, stats.reset_time - time.time() + SLACK)
            if wait > max_wait:
                return wait
            if wait <= 0:
                for item, *keys in buckets:
                    if not await self.strategy.hit(item, *keys):
                        break  # another sender took the slot since the test: try again
                else:
                    return 0.0
                wait = MIN_WAIT
            await asyncio.sleep(max(MIN_WAIT, wait))

    async def _acquire_in_database(
        self, db: Database, buckets: list[tuple[RateLimitItem, str, str]], max_wait: float
    ) -> float:
        """:meth:`acquire` on moving windows in the database: test every window (one read),
        then count under each (one atomic upsert each), as with ``limits``' storages."""
        windows = [
            (_database_key(platform, key), item.amount, float(item.get_expiry()))
            for item, platform, key in buckets
        ]
        if not windows:
            return 0.0
        while True:
            async with db.statement() as session:
                wait = await SendWindows(session).wait(windows)
            if wait > 0:
                wait += SLACK
            if wait > max_wait:
                return wait
            if wait <= 0:
                if await self._count(db, windows):
                    await self._prune(db)
                    return 0.0
                wait = MIN_WAIT  # another sender took the slot since the test: try again
            await asyncio.sleep(max(MIN_WAIT, wait))

    @staticmethod
    async def _count(db: Database, windows: list[tuple[str, int, float]]) -> bool:
        """Count one send under each window in turn (one connection; each upsert commits on
        its own); False at the first that has no room left."""
        async with db.statement() as session:
            for key, amount, period in windows:
                if not await SendWindows(session).hit(key, amount, period):
                    return False
        return True

    async def _prune(self, db: Database) -> None:
        """Delete the windows that hold nothing back, at most once per :data:`PRUNE_EVERY`."""
        if time.monotonic() - self._pruned < PRUNE_EVERY:
            return
        self._pruned = time.monotonic()
        async with db.statement() as session:
            await SendWindows(session).prune()


def _database_key(platform: str, key: str) -> str:
    """A window's row key: the platform, and a digest of the rest (no chat ids stored)."""
    return f"send:{platform}:{hashlib.sha256(key.encode()).hexdigest()[:32]}"


async def pause_until(moment: float) -> None:
    """Sleep until ``time.monotonic()`` reaches ``moment`` (at once if it has)."""
    delay = moment - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)
