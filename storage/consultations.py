"""Consultations loaded from files, and the ordinary items they expand to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, exists, func, literal_column, select, union, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Answer, Consultation, Item, Vote


@dataclass(frozen=True, slots=True)
class Progress:
    """``participants`` answered at least one item; ``completed`` answered every item."""

    participants: int
    completed: int


class ConsultationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def latest(self, slug: str) -> Consultation | None:
        """The newest version of the consultation called ``slug``."""
        query = (
            select(Consultation)
            .where(Consultation.slug == slug)
            .order_by(Consultation.version.desc())
            .limit(1)
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def all_latest(self) -> Sequence[Consultation]:
        """The newest version of every consultation, newest first."""
        newest = (
            select(Consultation.slug, func.max(Consultation.version).label("version"))
            .where(Consultation.slug.is_not(None))
            .group_by(Consultation.slug)
            .subquery()
        )
        query = (
            select(Consultation)
            .join(
                newest,
                (Consultation.slug == newest.c.slug) & (Consultation.version == newest.c.version),
            )
            .order_by(Consultation.created_at.desc(), Consultation.id.desc())
        )
        return (await self.session.execute(query)).scalars().all()

    async def add(self, consultation: Consultation) -> Consultation:
        self.session.add(consultation)
        await self.session.flush()
        return consultation

    async def items(self, consultation: Consultation) -> Sequence[Item]:
        query = (
            select(Item)
            .where(Item.consultation_id == consultation.id)
            .order_by(Item.position, Item.id)
        )
        return (await self.session.execute(query)).scalars().all()

    async def has_responses(self, consultation: Consultation) -> bool:
        """Whether anyone voted on or answered any of its items."""
        ids = select(Item.id).where(Item.consultation_id == consultation.id)
        voted = exists().where(Vote.item_id.in_(ids))
        answered = exists().where(Answer.item_id.in_(ids))
        return bool(await self.session.scalar(select(voted | answered)))

    async def remove_items(self, consultation: Consultation) -> None:
        """Delete its items (and their options): only while no one has responded."""
        await self.session.execute(
            delete(Item)
            .where(Item.consultation_id == consultation.id)
            .execution_options(synchronize_session=False)
        )

    async def supersede(self, consultation: Consultation, at: datetime) -> None:
        """Mark an older version superseded and close its open items."""
        consultation.status = "superseded"
        await self.session.execute(
            update(Item)
            .where(Item.consultation_id == consultation.id, Item.status == "open")
            .values(status="closed", closed_at=at)
            .execution_options(synchronize_session=False)
        )
        await self.session.flush()

    async def progress(self, consultation: Consultation) -> Progress:
        """People who responded to at least one item, and to every item, in two queries."""
        ids = select(Item.id).where(Item.consultation_id == consultation.id)
        total = int(
            await self.session.scalar(select(func.count()).select_from(ids.subquery())) or 0
        )
        pairs = union(
            select(Vote.participant_id, Vote.item_id).where(Vote.item_id.in_(ids)),
            select(Answer.participant_id, Answer.item_id).where(Answer.item_id.in_(ids)),
        ).subquery()
        per_person = (
            select(pairs.c.participant_id, func.count(literal_column("*")).label("n"))
            .group_by(pairs.c.participant_id)
            .subquery()
        )
        row = (
            await self.session.execute(
                select(
                    func.count(per_person.c.participant_id),
                    func.count(per_person.c.participant_id).filter(per_person.c.n >= total),
                )
            )
        ).one()
        return Progress(int(row[0] or 0), int(row[1] or 0) if total else 0)
