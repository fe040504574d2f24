"""Read models for the dashboard's consultation page: the progress funnel and per-item counts.

A person *takes part in* an item when they voted on it or answered it (any answer status), the
same rule as :meth:`storage.consultations.ConsultationRepository.progress`. :func:`started` is
the one place that says who started a consultation, so a per-person progress table can replace
it without touching the page.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from sqlalchemy import CompoundSelect, Select, func, literal_column, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from storage.consultations import ConsultationRepository
from storage.models import Answer, Consultation, ConsultationProgress, Item, Option, Vote

#: Answer statuses counted as comments or whys on show (held and hidden ones are not).
SHOWN = ("visible",)


@dataclass(frozen=True, slots=True)
class Funnel:
    """``started``, people per item (item id -> people), ``completed`` (every item)."""

    started: int
    per_item: dict[int, int] = field(default_factory=dict)
    completed: int = 0


def _item_ids(consultation: Consultation) -> Select[int]:
    return select(Item.id).where(Item.consultation_id == consultation.id)


def _pairs(consultation: Consultation) -> CompoundSelect[tuple[int, int]]:
    """Distinct (participant, item) pairs: who took part in which of its items."""
    ids = _item_ids(consultation)
    return union(
        select(Vote.participant_id, Vote.item_id).where(Vote.item_id.in_(ids)),
        select(Answer.participant_id, Answer.item_id).where(Answer.item_id.in_(ids)),
    )


async def started(session: AsyncSession, consultation: Consultation) -> int:
    """People who started the consultation: pressed Start (a progress row) or took part in at
    least one of its items."""
    pairs = _pairs(consultation).subquery()
    people = union(
        select(pairs.c.participant_id),
        select(ConsultationProgress.participant_id).where(
            ConsultationProgress.consultation_id == consultation.id
        ),
    ).subquery()
    return int(await session.scalar(select(func.count()).select_from(people)) or 0)


class ConsultationInsights:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def funnel(self, consultation: Consultation, items: int) -> Funnel:
        """Started, people per item, and people who reached the end (finished the chat flow,
        skips included, or took part in all ``items`` items)."""
        pairs = _pairs(consultation).subquery()
        per_item = {
            int(item_id): int(n)
            for item_id, n in await self.session.execute(
                select(pairs.c.item_id, func.count(literal_column("*"))).group_by(pairs.c.item_id)
            )
        }
        progress = await ConsultationRepository(self.session).progress(consultation)
        return Funnel(
            await started(self.session, consultation),
            per_item,
            progress.completed if items else 0,
        )

    async def option_votes(self, item_ids: Collection[int]) -> dict[int, dict[int, int]]:
        """Votes per option position, per item: {item id: {position: votes}}."""
        out: dict[int, dict[int, int]] = {i: {} for i in item_ids}
        if not item_ids:
            return out
        query = (
            select(Vote.item_id, Option.position, func.count(Vote.id))
            .join(Option, Option.id == Vote.option_id)
            .where(Vote.item_id.in_(list(item_ids)))
            .group_by(Vote.item_id, Option.position)
        )
        for item_id, position, votes in await self.session.execute(query):
            out[int(item_id)][int(position)] = int(votes)
        return out

    async def texts(
        self, item_ids: Collection[int], statuses: Sequence[str] = SHOWN
    ) -> dict[int, int]:
        """Answers (comments, whys, open answers) per item with one of ``statuses``."""
        out = dict.fromkeys(item_ids, 0)
        if not item_ids:
            return out
        query = (
            select(Answer.item_id, func.count(Answer.id))
            .where(Answer.item_id.in_(list(item_ids)), Answer.status.in_(list(statuses)))
            .group_by(Answer.item_id)
        )
        for item_id, n in await self.session.execute(query):
            out[int(item_id)] = int(n)
        return out
