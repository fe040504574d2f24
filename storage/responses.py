"""Votes and free-text answers, and the tallies read from them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Answer, Item, Option, Participant, Vote
from storage.tallies import TallyRepository


@dataclass(frozen=True, slots=True)
class Tally:
    """Counts for one item, read with a fixed number of queries whatever its size."""

    votes_by_option: dict[int, int]  # option position -> votes
    participants: int
    responses: int
    by_platform: dict[str, int] = field(default_factory=dict)  # participants per platform


class VoteRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def positions_chosen(self, item: Item, participant_id: int) -> frozenset[int]:
        """The option positions this participant has chosen on ``item``."""
        rows = await self.session.execute(
            select(Option.position)
            .join(Vote, Vote.option_id == Option.id)
            .where(Vote.item_id == item.id, Vote.participant_id == participant_id)
        )
        return frozenset(rows.scalars().all())

    async def tally(self, item: Item) -> Tally:
        """From the counters (see storage/tallies.py): two indexed reads, whatever the votes."""
        tallies = TallyRepository(self.session)
        counts = await tallies.by_option(item.id)
        by_platform = await tallies.by_platform(item.id)
        by_position = {o.position: counts.get(o.id, 0) for o in item.options}
        return Tally(
            votes_by_option=by_position,
            participants=sum(by_platform.values()),
            responses=sum(by_position.values()),
            by_platform=by_platform,
        )


class AnswerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        item: Item,
        participant: Participant,
        text: str,
        at: datetime,
        *,
        status: str = "visible",
        channel_id: str | None = None,
        message_id: str | None = None,
        language: str | None = None,
    ) -> Answer:
        answer = Answer(
            item_id=item.id,
            participant_id=participant.id,
            platform=participant.platform,
            text=text,
            language=language,
            status=status,
            flags=[],
            channel_id=channel_id,
            message_id=message_id,
            created_at=at,
        )
        self.session.add(answer)
        await self.session.flush()
        return answer

    async def for_item(
        self,
        item: Item,
        *,
        statuses: Sequence[str] = ("visible",),
        limit: int | None = None,
        newest_first: bool = False,
    ) -> Sequence[Answer]:
        order = (
            (Answer.created_at.desc(), Answer.id.desc())
            if newest_first
            else (
                Answer.created_at,
                Answer.id,
            )
        )
        query = (
            select(Answer)
            .where(Answer.item_id == item.id, Answer.status.in_(statuses))
            .order_by(*order)
        )
        if limit is not None:
            query = query.limit(limit)
        return (await self.session.execute(query)).scalars().all()

    async def count_by(self, item: Item, participant_id: int) -> int:
        """How many answers this participant has given to ``item``, whatever their status."""
        query = select(func.count(Answer.id)).where(
            Answer.item_id == item.id, Answer.participant_id == participant_id
        )
        return int(await self.session.scalar(query) or 0)

    async def tally(self, item: Item, *, statuses: Sequence[str] = ("visible",)) -> Tally:
        query = (
            select(
                Answer.platform,
                func.count(Answer.id),
                func.count(func.distinct(Answer.participant_id)),
            )
            .where(Answer.item_id == item.id, Answer.status.in_(statuses))
            .group_by(Answer.platform)
        )
        rows = (await self.session.execute(query)).all()
        return Tally(
            votes_by_option={},
            participants=sum(people for _, _, people in rows),
            responses=sum(n for _, n, _ in rows),
            by_platform={platform: people for platform, _, people in rows},
        )
