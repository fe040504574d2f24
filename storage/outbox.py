"""The durable outbox: messages that must arrive, written with the change that causes them."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    String,
    Table,
    Text,
    bindparam,
    case,
    cast,
    delete,
    func,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import WROTE_OUTBOX, wrote
from storage.dialect import insert, is_postgresql, pg_batch, rowcount
from storage.models import PENDING_REFRESH_WHERE, OutboxMessage, Publication, UTCDateTime

#: :meth:`OutboxRepository.send_private_many` on PostgreSQL: one statement for the batch.
_PG_SEND_PRIVATE = pg_batch(
    "INSERT INTO outbox (op, private, platform, channel_id, view, status, attempts, due_at,"
    " created_at) SELECT 'send', true, p, c, CAST(v AS json), 'pending', 0, :at, :at"
    " FROM unnest(CAST(:platforms AS varchar[]), CAST(:channels AS varchar[]),"
    " CAST(:views AS text[])) AS t(p, c, v)",
    ("platforms", String),
    ("channels", String),
    ("views", String),
    at=True,
)


_outbox: Table = OutboxMessage.__table__  # type: ignore[assignment]
#: The per-row bookkeeping of every send, built once (an ORM update is rebuilt, coerced and
#: cache-keyed on every call: about twice the CPU per statement; docs/performance.md).
_START_ATTEMPT = (
    update(_outbox)
    .where(
        _outbox.c.id == bindparam("message_id"),
        _outbox.c.claim == bindparam("b_claim"),
        _outbox.c.status == "pending",
    )
    .values(last_error=bindparam("marker"), due_at=bindparam("until"))
)
_MARK_SENT = (
    update(_outbox)
    .where(_outbox.c.id == bindparam("message_id"))
    .values(
        status="sent",
        sent_at=bindparam("at"),
        last_error=None,
        platform_message_id=bindparam("b_platform_message_id"),
    )
)


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def send(
        self,
        *,
        platform: str,
        channel_id: str,
        view: dict[str, Any],
        at: datetime,
        thread_id: str | None = None,
        reply_to: str | None = None,
        publication_id: int | None = None,
        private: bool = False,
        requested_by: str | None = None,
    ) -> None:
        wrote(self.session, WROTE_OUTBOX)
        self.session.add(
            OutboxMessage(
                op="send",
                private=private,
                platform=platform,
                channel_id=channel_id,
                thread_id=thread_id,
                reply_to=reply_to,
                publication_id=publication_id,
                view=view,
                status="pending",
                attempts=0,
                due_at=at,
                created_at=at,
                requested_by=requested_by,
            )
        )

    async def send_private_many(
        self, messages: Sequence[tuple[str, str, dict[str, Any]]], at: datetime
    ) -> None:
        """:meth:`send` of (platform, user id, view) to each person's private chat, in one
        statement (the vote batch's path)."""
        if not messages:
            return
        wrote(self.session, WROTE_OUTBOX)
        if is_postgresql(self.session):
            platforms, channels, views = ([m[i] for m in messages] for i in (0, 1, 2))
            params = {
                "platforms": platforms,
                "channels": channels,
                "views": [json.dumps(view) for view in views],
                "at": at,
            }
            await self.session.execute(_PG_SEND_PRIVATE, params)
            return
        rows = [
            {
                "op": "send",
                "private": True,
                "platform": platform,
                "channel_id": user_id,
                "view": view,
                "status": "pending",
                "attempts": 0,
                "due_at": at,
                "created_at": at,
            }
            for platform, user_id, view in messages
        ]
        # executemany form: one cached statement, pipelined by the driver
        await self.session.execute(insert(self.session, OutboxMessage.__table__), rows)

    async def refresh(
        self, *, publication_id: int, platform: str, channel_id: str, due_at: datetime
    ) -> None:
        """Ask for the publication to be re-rendered by ``due_at``.

        Coalesces with a pending request: many votes, one edit. A pending request due later is
        brought forward (e.g. closing the item should show at once).
        """
        wrote(self.session, WROTE_OUTBOX)
        await self.session.execute(
            insert(self.session, OutboxMessage)
            .values(
                op="refresh",
                platform=platform,
                channel_id=channel_id,
                publication_id=publication_id,
                status="pending",
                attempts=0,
                due_at=due_at,
                created_at=due_at,
            )
            .on_conflict_do_nothing(
                index_elements=["publication_id"],
                index_where=text(PENDING_REFRESH_WHERE),
            )
        )
        await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.publication_id == publication_id,
                OutboxMessage.status == "pending",
                OutboxMessage.op == "refresh",
                OutboxMessage.due_at > due_at,
            )
            .values(due_at=due_at)
            .execution_options(synchronize_session=False)
        )

    async def refresh_items(self, item_ids: Sequence[int], due_at: datetime) -> datetime | None:
        """:meth:`refresh` for every publication of these items, in one statement (the vote
        batch's path: one round trip however many items and publications). Returns when the
        earliest of their pending refreshes is now due (None: the items have no publication):
        a pending request due earlier stays as it is, one due later is brought forward."""
        if not item_ids:
            return None
        wrote(self.session, WROTE_OUTBOX)
        table = OutboxMessage.__table__
        due = literal(due_at, UTCDateTime())
        rows = select(
            literal("refresh"),
            Publication.platform,
            Publication.channel_id,
            Publication.id,
            literal("pending"),
            literal(0),
            due,
            due,
        ).where(Publication.item_id.in_(item_ids))
        columns = ["op", "platform", "channel_id", "publication_id", "status", "attempts"]
        stmt = insert(self.session, table).from_select([*columns, "due_at", "created_at"], rows)
        earlier = case(
            (table.c.due_at > stmt.excluded.due_at, stmt.excluded.due_at), else_=table.c.due_at
        )
        upsert = stmt.on_conflict_do_update(
            index_elements=["publication_id"],
            index_where=text(PENDING_REFRESH_WHERE),
            set_={"due_at": earlier},  # every row returns the due it is left with
        ).returning(table.c.due_at)
        dues = (await self.session.execute(upsert)).scalars().all()
        return min(dues, default=None)

    async def claim_due(
        self, now: datetime, platforms: Sequence[str], limit: int = 50
    ) -> Sequence[OutboxMessage]:
        """Due messages for the platforms this worker serves, locked against other workers."""
        query = (
            select(OutboxMessage)
            .where(
                OutboxMessage.status == "pending",
                OutboxMessage.due_at <= now,
                OutboxMessage.platform.in_(platforms),
            )
            .order_by(OutboxMessage.due_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.execute(query)).scalars().all()

    async def next_due(self, platforms: Sequence[str]) -> datetime | None:
        query = (
            select(OutboxMessage.due_at)
            .where(OutboxMessage.status == "pending", OutboxMessage.platform.in_(platforms))
            .order_by(OutboxMessage.due_at)
            .limit(1)
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def mark_sent(
        self, message_id: int, at: datetime, platform_message_id: str | None = None
    ) -> None:
        """Done: with the platform's id for the message, in the same transaction."""
        params = {"message_id": message_id, "at": at, "b_platform_message_id": platform_message_id}
        await self.session.execute(_MARK_SENT, params)

    async def lease(
        self, message_ids: Sequence[int], claim: str, until: datetime, now: datetime
    ) -> None:
        """Claim due messages for one worker until ``until`` (not yet attempted), in one
        statement; ``now`` becomes the first attempt's time where there was none."""
        if not message_ids:
            return
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(message_ids))
            .values(
                claim=claim,
                due_at=until,
                first_tried_at=func.coalesce(OutboxMessage.first_tried_at, now),
            )
            .execution_options(synchronize_session=False)
        )

    async def release(
        self, message_id: int, claim: str, due_at: datetime, last_error: str | None
    ) -> None:
        """Give a claimed message back unattempted, due again at ``due_at``, with the
        ``last_error`` it had before the attempt was recorded."""
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.claim == claim)
            .values(claim=None, due_at=due_at, last_error=last_error)
            .execution_options(synchronize_session=False)
        )

    async def start_attempt(
        self, message_id: int, claim: str, until: datetime, marker: str
    ) -> bool:
        """Record that the send is being made now (``marker`` in ``last_error``), if the claim
        is still ours; False when the lease ran out and another worker claimed the row."""
        params = {"message_id": message_id, "b_claim": claim, "marker": marker, "until": until}
        return bool(rowcount(await self.session.execute(_START_ATTEMPT, params)))

    async def mark_failed(
        self, message_id: int, error: str, *, attempts: int | None = None
    ) -> None:
        values: dict[str, Any] = {"attempts": attempts} if attempts is not None else {}
        await self._set(message_id, status="failed", last_error=error[:500], **values)

    async def mark_uncertain(self, message_id: int, error: str, *, attempts: int) -> None:
        """The send may or may not have been posted: never resent without a person's say."""
        await self._set(message_id, status="uncertain", last_error=error[:500], attempts=attempts)

    async def postpone(
        self,
        message_id: int,
        due_at: datetime,
        *,
        attempts: int,
        error: str | None = None,
        first_tried_at: datetime | None = None,
    ) -> None:
        """Make a message due again later (a lease while delivering, or a retry)."""
        values: dict[str, Any] = {"attempts": attempts, "due_at": due_at}
        if error is not None:
            values["last_error"] = error[:500]
        if first_tried_at is not None:
            values["first_tried_at"] = first_tried_at
        await self._set(message_id, **values)

    async def undelivered(self, limit: int = 200) -> Sequence[OutboxMessage]:
        """Sends that failed for good or may not have arrived, newest first (the dashboard)."""
        query = (
            select(OutboxMessage)
            .where(OutboxMessage.op == "send", OutboxMessage.status.in_(("failed", "uncertain")))
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        )
        return (await self.session.execute(query)).scalars().all()

    async def retry(self, message_id: int, now: datetime) -> bool:
        """Send a failed or uncertain message again, with a fresh allowance of time."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.op == "send",
                OutboxMessage.status.in_(("failed", "uncertain")),
            )
            .values(status="pending", attempts=0, due_at=now, first_tried_at=None)
            .execution_options(synchronize_session=False)
        )
        return bool(rowcount(result))

    async def erase_person(self, platform: str, user_id: str, refs: Sequence[str] = ()) -> int:
        """Forget a person: every message (pending or finished) addressed to them, asked for
        by them, or mentioning one of their answers' references (``refs``) in its content."""
        subject = f"{platform}:{user_id}"
        addressed = (OutboxMessage.platform == platform) & (OutboxMessage.channel_id == user_id)
        query = select(OutboxMessage.id, OutboxMessage.view, OutboxMessage.requested_by).where(
            addressed | (OutboxMessage.requested_by == subject)
        )
        doomed: set[int] = set()
        asked: set[int] = set()
        for row_id, view, requested_by in (await self.session.execute(query)).all():
            if requested_by == subject and not _mentions(view, [user_id, *refs]):
                asked.add(row_id)
            else:
                doomed.add(row_id)
        for ref in refs:
            # A ref (e.g. a hidden answer's "A12") sits inside a view's JSON, e.g. a moderation
            # card: narrowed with LIKE, then checked as a whole word.
            like = cast(OutboxMessage.view, Text).like(f"%{ref}%")
            for row_id, view in (
                await self.session.execute(select(OutboxMessage.id, OutboxMessage.view).where(like))
            ).all():
                if _mentions(view, [ref]):
                    doomed.add(row_id)
        asked -= doomed
        if asked:  # a card they published stays; only the link to them goes
            await self.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(asked))
                .values(requested_by=None)
                .execution_options(synchronize_session=False)
            )
        if doomed:
            await self.session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(doomed)))
        return len(doomed)

    async def backlog(self) -> tuple[int, datetime | None]:
        """How many messages wait to be delivered, and since when the oldest waits."""
        query = select(func.count(), func.min(OutboxMessage.created_at)).where(
            OutboxMessage.status == "pending"
        )
        count, oldest = (await self.session.execute(query)).one()
        return int(count), oldest

    async def pending(self, platform: str | None = None) -> Sequence[OutboxMessage]:
        query = select(OutboxMessage).where(OutboxMessage.status == "pending")
        if platform:
            query = query.where(OutboxMessage.platform == platform)
        return (await self.session.execute(query.order_by(OutboxMessage.id))).scalars().all()

    async def _set(self, message_id: int, **values: Any) -> None:
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def backoff(attempts: int, base: float = 2.0, cap: float = 600.0) -> timedelta:
    """Exponential backoff for delivery retries: 2 s, 4 s, 8 s ... at most 10 minutes."""
    return timedelta(seconds=min(cap, base * (2 ** max(0, attempts))))


def _mentions(view: Any, needles: Sequence[str]) -> bool:
    """Whether any of ``needles`` appears as a whole word in a stored view's text."""
    if not view or not needles:
        return False
    blob = json.dumps(view, ensure_ascii=False)
    return any(re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", blob) for n in needles if n)
