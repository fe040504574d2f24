"""The outbox worker: delivers durable messages through the adapters, with retries."""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from bot.adapter import Adapter, ask_channel_name
from bot.context import Clock, utc_now
from bot.errors import DeliveryError
from bot.events import MessageRef, Target
from bot.loops import SupervisedLoop
from bot.metrics import Metrics
from bot.sendrate import SendLimiter
from bot.views import Notice, View, view_from_dict, view_to_dict
from storage.db import Database
from storage.items import PublicationRepository
from storage.models import OutboxMessage, Publication
from storage.outbox import OutboxRepository, backoff

log = structlog.get_logger("townhall.delivery")

#: Renders a publication's current card (for refreshes); None when there is nothing to show.
Renderer = Callable[[AsyncSession, Publication], Awaitable[View | None]]

#: ``last_error`` of a send being attempted right now. Still there when the row is claimed
#: again, the process died mid-send and whether it arrived is unknown.
IN_FLIGHT = "in flight"
MAX_ATTEMPTS = 12  # refreshes only: a send is retried until ``give_up_after``
#: A send being attempted is leased this long (longer than any platform's send timeout) ...
LEASE = timedelta(seconds=60)
#: ... and a claimed one waiting for its turn this long: after a crash another worker (or the
#: restarted one) takes it over that soon, never twice (the attempt re-checks the claim).
CLAIM_LEASE = timedelta(seconds=10)
#: Longest wait for a platform's send budget inside a pass; longer, the row is made due later.
MAX_INLINE_WAIT = 1.0
#: Chats delivered to at once; messages to one chat go in order, one after another.
CONCURRENCY = 4
#: Told privately to whoever published a card the outbox gave up on (or is unsure about).
GAVE_UP = (
    "Your card “{title}” could not be delivered ({reason}). A member of the policy team can "
    "send it again from the dashboard's Failed deliveries page."
)
UNSURE = (
    "Your card “{title}” may not have appeared: the platform did not confirm it in time. "
    "Please check the chat; if it is missing, send it again from the dashboard's Failed "
    "deliveries page."
)


class Deliverer:
    """Claims due outbox rows (row locks on PostgreSQL, so several workers can share one
    database), delivers them, and records the outcome. A claimed ``send`` is leased: if this
    process dies mid-delivery the row becomes due again after the lease. A ``refresh`` is
    consumed at claim time so that votes arriving meanwhile queue a fresh one.

    Retries: a rate limit (``retry_after``) is waited out and costs nothing; a transient error
    is retried with backoff until ``give_up_after`` has passed since the first attempt; a
    permanent one (chat gone, bot removed, forbidden) ends at once. A send that timed out on a
    platform without idempotency keys is marked ``uncertain`` and never resent blindly (a
    second card is worse than a late one): the publisher is told, and the dashboard offers to
    send it again. Giving up also tells the person who published the card.
    """

    def __init__(
        self,
        db: Database,
        adapters: Mapping[str, Adapter],
        render: Renderer,
        *,
        clock: Clock = utc_now,
        idle_poll: float = 1.0,
        give_up_after: float = 86400.0,
        metrics: Metrics | None = None,
        limiter: SendLimiter | None = None,
        concurrency: int = CONCURRENCY,
    ) -> None:
        """``limiter``: keeps each platform's send rates (its ``Capabilities.send_rates``),
        shared by every worker when it is backed by Redis."""
        self.db = db
        self.limiter = limiter or SendLimiter()
        self.concurrency = concurrency
        self._claim = f"{secrets.token_hex(6)}:"
        #: (platform, chat) -> when a 429's ``retry_after`` ends: the chat's queue waits, not
        #: only the refused row (the next row to that chat would meet the same 429).
        self._paused: dict[tuple[str, str], datetime] = {}
        self._claims = itertools.count(1)
        self.adapters = adapters
        self.render = render
        self.clock = clock
        self.idle_poll = idle_poll
        self.give_up_after = timedelta(seconds=give_up_after)
        self.metrics = metrics or Metrics()
        self.loop = SupervisedLoop("outbox", self._pass)

    def wake(self) -> None:
        self.loop.wake()

    async def run(self) -> None:
        """Deliver until cancelled; woken by commits, otherwise polls at ``idle_poll``. Any
        failure (e.g. the database is away) is retried with backoff, never ends the loop."""
        await self.loop.run()

    async def _pass(self) -> float:
        if await self.run_once():
            return 0.0
        return await self._until_next_due()

    async def _until_next_due(self) -> float:
        if not self.adapters:
            return self.idle_poll
        async with self.db.transaction() as session:
            due = await OutboxRepository(session).next_due(list(self.adapters))
        if due is None:
            return self.idle_poll
        return max(0.0, min(self.idle_poll, (due - self.clock()).total_seconds()))

    async def run_once(self, limit: int = 50) -> int:
        """One pass over what is due now. Returns how many rows it handled."""
        if not self.adapters:
            return 0
        now = self.clock()
        claim = f"{self._claim}{next(self._claims)}"
        async with self.db.transaction() as session:
            outbox = OutboxRepository(session)
            claimed = list(await outbox.claim_due(now, list(self.adapters), limit))
            sends = [row for row in claimed if row.op == "send"]
            for row in claimed:
                if row.op == "refresh":
                    await outbox.mark_sent(row.id, now)
            # Ours until CLAIM_LEASE; each attempt is recorded before it is made.
            await outbox.lease([row.id for row in sends], claim, now + CLAIM_LEASE, now)
            for row in sends:
                row.first_tried_at = row.first_tried_at or now
                row.claim = claim
        chats: dict[tuple[str, str], list[OutboxMessage]] = {}
        for row in claimed:
            chats.setdefault((row.platform, row.channel_id), []).append(row)
        gate = asyncio.Semaphore(self.concurrency)
        await asyncio.gather(*(self._deliver_in_order(rows, gate) for rows in chats.values()))
        return len(claimed)

    async def _deliver_in_order(
        self, rows: Sequence[OutboxMessage], gate: asyncio.Semaphore
    ) -> None:
        async with gate:
            for row in rows:
                await self._deliver(row)
                self.loop.beat()

    async def _begin(self, adapter: Adapter, row: OutboxMessage) -> bool:
        """Record the attempt, then wait for the platform's rate limits: the send leaves as
        its slot comes, with no database round trip in between (one there made the arrival
        times uneven enough for a strict limit to answer 429 five times as often). A crash
        leaves at most ``concurrency`` rows "in flight" (uncertain). False: not now — our
        claim ran out and another worker took the row, or the chat's budget is spent for
        longer than ``MAX_INLINE_WAIT`` (the row is made due when it refills)."""
        rates = adapter.capabilities.send_rates
        chat = (row.platform, row.channel_id)
        paused = self._paused.get(chat)
        if paused is not None:
            if paused > self.clock():
                self.metrics.child(self.metrics.deliveries, row.platform, "paused").inc()
                await self._later(row, paused)
                return False
            del self._paused[chat]
        if row.op != "refresh":
            assert row.claim is not None
            async with self.db.statement() as session:
                started = await OutboxRepository(session).start_attempt(
                    row.id, row.claim, self.clock() + LEASE, IN_FLIGHT
                )
            if not started:
                log.info("outbox claim lapsed; left to its new holder", outbox_id=row.id)
                return False
        target = Target(row.channel_id, row.thread_id, private=row.private)
        wait = await self.limiter.acquire(row.platform, rates, target, max_wait=MAX_INLINE_WAIT)
        if wait:
            self.metrics.child(self.metrics.deliveries, row.platform, "paced").inc()
            await self._later(row, self.clock() + timedelta(seconds=wait))
            return False
        return True

    async def _later(self, row: OutboxMessage, due: datetime) -> None:
        """Not now: the row (not attempted) is due again at ``due``."""
        async with self.db.transaction() as session:
            outbox = OutboxRepository(session)
            if row.op == "refresh":
                assert row.publication_id is not None
                await outbox.refresh(
                    publication_id=row.publication_id,
                    platform=row.platform,
                    channel_id=row.channel_id,
                    due_at=due,
                )
            else:  # not attempted after all
                assert row.claim is not None
                await outbox.release(row.id, row.claim, due, row.last_error)

    async def drain(self, within: float = 10.0) -> None:
        """Deliver everything that is due now (and whatever that causes); for tests and CLI."""
        async with asyncio.timeout(within):
            while await self.run_once():
                pass

    async def _deliver(self, row: OutboxMessage) -> None:
        adapter = self.adapters[row.platform]
        try:
            if row.op == "refresh":
                if await self._begin(adapter, row):
                    await self._refresh(adapter, row)
                return
            assert row.view is not None
            if row.last_error == IN_FLIGHT and not adapter.capabilities.idempotent_sends:
                # The last attempt was cut short (the process died while sending): it may
                # have been posted, and resending could show the card twice.
                raise DeliveryError("interrupted while sending", uncertain=True)
            if not await self._begin(adapter, row):
                return
            view = view_from_dict(row.view)
            target = Target(row.channel_id, row.thread_id, private=row.private)
            ref = await adapter.send(target, view, reply_to=row.reply_to, key=f"townhall-{row.id}")
            self.metrics.child(self.metrics.deliveries, row.platform, "sent").inc()
            name = None
            if row.publication_id is not None:
                name = await ask_channel_name(adapter, target)
            if row.publication_id is None:  # one statement: no BEGIN/COMMIT round trips
                async with self.db.statement() as session:
                    await OutboxRepository(session).mark_sent(row.id, self.clock(), ref.message_id)
            else:
                async with self.db.transaction() as session:
                    await OutboxRepository(session).mark_sent(row.id, self.clock(), ref.message_id)
                    await PublicationRepository(session).set_message_id(
                        row.publication_id, ref.message_id, channel_name=name
                    )
        except DeliveryError as exc:
            await self._failed(row, exc)
        except Exception as exc:
            log.exception("delivery crashed", platform=row.platform, outbox_id=row.id)
            await self._failed(row, DeliveryError(type(exc).__name__))

    async def _refresh(self, adapter: Adapter, row: OutboxMessage) -> None:
        assert row.publication_id is not None
        async with self.db.transaction() as session:
            pub = await PublicationRepository(session).get(row.publication_id)
            if pub is None or pub.message_id is None:
                return  # not delivered yet: the pending send will carry the fresh card
            view = await self.render(session, pub)
        if view is None:
            return
        await adapter.edit(
            MessageRef(pub.platform, pub.channel_id, pub.message_id, pub.thread_id), view
        )

    async def _failed(self, row: OutboxMessage, exc: DeliveryError) -> None:
        now = self.clock()
        result = (
            "rate_limited"
            if exc.retry_after is not None
            else "failed"
            if exc.permanent
            else "uncertain"
            if exc.uncertain
            else "error"
        )
        self.metrics.child(self.metrics.deliveries, row.platform, result).inc()
        self.metrics.child(self.metrics.platform_errors, row.platform, exc.code or result).inc()
        if exc.retry_after is not None:  # the chat's queue waits too (see _begin)
            chat = (row.platform, row.channel_id)
            until = now + timedelta(seconds=exc.retry_after)
            self._paused[chat] = max(until, self._paused.get(chat, until))
        async with self.db.transaction() as session:
            outbox = OutboxRepository(session)
            if row.op == "refresh":
                # An edit is idempotent: a timeout is just retried.
                if exc.retry_after is not None or (
                    not exc.permanent and row.attempts < MAX_ATTEMPTS
                ):
                    delay = timedelta(seconds=exc.retry_after) if exc.retry_after else backoff(0)
                    assert row.publication_id is not None
                    await outbox.refresh(
                        publication_id=row.publication_id,
                        platform=row.platform,
                        channel_id=row.channel_id,
                        due_at=now + delay,
                    )
                return
            if exc.retry_after is not None:  # flood control: wait, it is not a failure
                delay = timedelta(seconds=exc.retry_after)
                await outbox.postpone(row.id, now + delay, attempts=row.attempts, error=str(exc))
                log.info(
                    "delivery rate limited",
                    platform=row.platform,
                    outbox_id=row.id,
                    retry_in=delay.total_seconds(),
                )
                return
            if exc.uncertain:
                await outbox.mark_uncertain(row.id, str(exc), attempts=row.attempts + 1)
                await self._tell_requester(outbox, row, UNSURE, str(exc), now)
                log.warning(
                    "delivery uncertain; not resent", platform=row.platform, outbox_id=row.id
                )
                return
            attempts = row.attempts + 1
            started = row.first_tried_at or now
            if exc.permanent or now - started >= self.give_up_after:
                await outbox.mark_failed(row.id, str(exc), attempts=attempts)
                await self._tell_requester(outbox, row, GAVE_UP, str(exc), now)
                log.warning("delivery failed for good", platform=row.platform, outbox_id=row.id)
                return
            delay = backoff(attempts - 1)
            await outbox.postpone(row.id, now + delay, attempts=attempts, error=str(exc))
        log.info(
            "delivery postponed",
            platform=row.platform,
            outbox_id=row.id,
            retry_in=delay.total_seconds(),
        )

    async def _tell_requester(
        self,
        outbox: OutboxRepository,
        row: OutboxMessage,
        template: str,
        reason: str,
        now: datetime,
    ) -> None:
        """A private notice to whoever asked for the message (a publisher), if anyone did."""
        if not row.requested_by or row.private:
            return
        platform, _, user_id = row.requested_by.partition(":")
        if not user_id or (platform, user_id) == (row.platform, row.channel_id):
            return  # nobody, or the very chat that failed
        title = str((row.view or {}).get("title") or "")[:80] or "(untitled)"
        text = template.format(title=title, reason=reason[:120])
        await outbox.send(
            platform=platform,
            channel_id=user_id,
            view=view_to_dict(Notice(text)),
            at=now,
            private=True,
        )
