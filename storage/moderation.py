"""The moderators' queue, reports, and the pending actions that wait for consent."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ScalarSelect, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import insert, rowcount
from storage.models import (
    Answer,
    AuditEntry,
    ErasedAnswer,
    Item,
    PendingAction,
    Report,
)


def fresh_reports() -> ScalarSelect[int]:
    """Per answer: reports made since its last moderator decision (all when never decided)."""
    return (
        select(func.count(Report.id))
        .where(
            Report.answer_id == Answer.id,
            or_(Answer.reviewed_at.is_(None), Report.created_at > Answer.reviewed_at),
        )
        .correlate(Answer)
        .scalar_subquery()
    )


class ModerationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def answer(self, answer_id: int) -> Answer | None:
        return await self.session.get(Answer, answer_id)

    async def erased(self, answer_id: int) -> ErasedAnswer | None:
        """The tombstone of an answer erased at its author's request."""
        return await self.session.get(ErasedAnswer, answer_id)

    async def answer_at(self, platform: str, channel_id: str, message_id: str) -> Answer | None:
        """The answer written as this platform message (for reports made on the message)."""
        query = select(Answer).where(
            Answer.platform == platform,
            Answer.channel_id == channel_id,
            Answer.message_id == message_id,
        )
        return (await self.session.execute(query.limit(1))).scalar_one_or_none()

    async def queue(self, *, limit: int, offset: int = 0) -> Sequence[tuple[Answer, Item, int]]:
        """Answers needing a decision, oldest first, with their item and report count."""
        query = (
            select(Answer, Item, fresh_reports())
            .join(Item, Item.id == Answer.item_id)
            .where(Answer.needs_review.is_(True))
            .order_by(Answer.created_at, Answer.id)
            .limit(limit)
            .offset(offset)
        )
        return [(a, i, int(n)) for a, i, n in (await self.session.execute(query)).all()]

    async def escalated(self, item_id: int) -> list[tuple[Answer, AuditEntry | None]]:
        """An item's escalated answers, oldest first, each with its latest escalation entry
        (who escalated it, when, and the reason they gave)."""
        answers = (
            (
                await self.session.execute(
                    select(Answer)
                    .where(Answer.item_id == item_id, Answer.escalated.is_(True))
                    .order_by(Answer.created_at, Answer.id)
                )
            )
            .scalars()
            .all()
        )
        if not answers:
            return []
        refs = [f"A{a.id}" for a in answers]
        entries = await self.session.execute(
            select(AuditEntry)
            .where(AuditEntry.action == "answer.escalate", AuditEntry.target.in_(refs))
            .order_by(AuditEntry.id)
        )
        latest = {entry.target: entry for entry in entries.scalars()}
        return [(a, latest.get(f"A{a.id}")) for a in answers]

    async def queue_size(self) -> int:
        query = select(func.count(Answer.id)).where(Answer.needs_review.is_(True))
        return int((await self.session.execute(query)).scalar_one())

    async def report(self, answer: Answer, reporter_id: int, at: datetime) -> tuple[bool, int]:
        """Record one participant's report.

        Returns (new report?, distinct reporters since the last moderator decision): a decision
        settles the reports made before it (Decidim's rule), so only fresh ones count again.
        """
        result = await self.session.execute(
            insert(self.session, Report)
            .values(answer_id=answer.id, reporter_id=reporter_id, created_at=at)
            .on_conflict_do_nothing(index_elements=["answer_id", "reporter_id"])
        )
        since = select(func.count(Report.id)).where(Report.answer_id == answer.id)
        if answer.reviewed_at is not None:
            since = since.where(Report.created_at > answer.reviewed_at)
        count = await self.session.execute(since)
        return bool(rowcount(result)), int(count.scalar_one())

    async def recent_texts(
        self, participant_id: int, since: datetime
    ) -> Sequence[tuple[str, datetime]]:
        query = (
            select(Answer.text, Answer.created_at)
            .where(Answer.participant_id == participant_id, Answer.created_at >= since)
            .order_by(Answer.created_at.desc())
            .limit(200)
        )
        return [(t, c) for t, c in (await self.session.execute(query)).all()]


class PendingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self, pseudonym: str, platform: str, payload: dict[str, Any], at: datetime
    ) -> int:
        """Keep an action until consent; the same action sent again is kept once."""
        query = select(PendingAction).where(PendingAction.pseudonym == pseudonym)
        for waiting in (await self.session.execute(query)).scalars():
            if waiting.payload == payload:
                return waiting.id
        pending = PendingAction(
            pseudonym=pseudonym, platform=platform, payload=payload, created_at=at
        )
        self.session.add(pending)
        await self.session.flush()
        return pending.id

    async def take_all(self, pseudonym: str) -> list[dict[str, Any]]:
        """Remove and return this person's pending actions, oldest first."""
        query = (
            select(PendingAction)
            .where(PendingAction.pseudonym == pseudonym)
            .order_by(PendingAction.id)
        )
        pending = (await self.session.execute(query)).scalars().all()
        await self.session.execute(
            delete(PendingAction).where(PendingAction.pseudonym == pseudonym)
        )
        return [p.payload for p in pending]

    async def drop_older_than(self, cutoff: datetime) -> int:
        result = await self.session.execute(
            delete(PendingAction).where(PendingAction.created_at < cutoff)
        )
        return rowcount(result)
