"""The queries ``townhall demo`` needs beyond the repositories: settling what it queued for
made-up chats, and counting what the sample week left behind."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Answer, AuditEntry, OutboxMessage, Participant, Publication, Report, Vote


class DemoQueries:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def newest_outbox_id(self) -> int:
        """The highest outbox id so far (0 with none): what the demo queues comes after it."""
        return int(await self.session.scalar(select(func.max(OutboxMessage.id))) or 0)

    async def settle(
        self,
        *,
        after: int,
        channels: Collection[str],
        at: datetime,
        message_id: Callable[[str, datetime], str],
        channel_names: Mapping[str, str],
    ) -> None:
        """Mark pending messages after outbox id ``after`` to ``channels`` as sent; a published
        card gets a made-up message id (``message_id(platform, at)``) and its channel's name."""
        rows = (
            await self.session.execute(
                select(OutboxMessage).where(
                    OutboxMessage.id > after,
                    OutboxMessage.status == "pending",
                    OutboxMessage.channel_id.in_(channels),
                )
            )
        ).scalars()
        for row in rows:
            row.status, row.sent_at, row.attempts = "sent", at, 1
            if row.op == "send" and row.publication_id is not None:
                pub = await self.session.get(Publication, row.publication_id)
                if pub is not None and pub.message_id is None:
                    pub.message_id = message_id(row.platform, at)
                    pub.channel_name = channel_names.get(row.platform)

    async def counts(
        self, item_ids: Sequence[int], people: Collection[str], moderator: str, since: datetime
    ) -> dict[str, int]:
        """Votes, answers, answers to review, reports, participants and moderator decisions."""
        answers = select(func.count(Answer.id)).where(Answer.item_id.in_(item_ids))
        queries = {
            "votes": select(func.count(Vote.id)).where(Vote.item_id.in_(item_ids)),
            "answers": answers,
            "to_review": answers.where(Answer.needs_review.is_(True)),
            "reports": select(func.count(Report.id))
            .join(Answer, Answer.id == Report.answer_id)
            .where(Answer.item_id.in_(item_ids)),
            "participants": select(func.count(Participant.id)).where(
                Participant.platform_user_id.in_(people)
            ),
            "decisions": select(func.count(AuditEntry.id)).where(
                AuditEntry.actor == moderator, AuditEntry.at >= since
            ),
        }
        return {k: int((await self.session.execute(q)).scalar_one()) for k, q in queries.items()}
