"""Consultations loaded from files, and the ordinary items they expand to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, exists, func, literal_column, select, union, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import insert
from storage.models import (
    Answer,
    Consultation,
    ConsultationProgress,
    ConsultationResponse,
    Item,
    MessageOptOut,
    Participant,
    StatementVote,
    Vote,
)
from storage.statements import StatementRepository


@dataclass(frozen=True, slots=True)
class Recipient:
    """Someone to message privately: their participant id, platform and platform user id."""

    participant_id: int
    platform: str
    user_id: str
    #: The language they chose (``language cy``), if they did.
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Progress:
    """``participants`` answered at least one item; ``completed`` reached the end of the chat
    flow (answered or skipped every item)."""

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
        """People who responded to at least one item; people who reached the end: finished the
        chat flow (skips count as reached) or responded to every item."""
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
        participants = await self.session.scalar(select(func.count(per_person.c.participant_id)))
        finished = union(
            select(per_person.c.participant_id).where(per_person.c.n >= total),
            select(ConsultationProgress.participant_id).where(
                ConsultationProgress.consultation_id == consultation.id,
                ConsultationProgress.completed_at.is_not(None),
            ),
        ).subquery()
        completed = await self.session.scalar(select(func.count()).select_from(finished))
        return Progress(int(participants or 0), int(completed or 0) if total else 0)

    async def get(self, consultation_id: int) -> Consultation | None:
        return await self.session.get(Consultation, consultation_id)

    # -- one person's way through it -------------------------------------------------------
    async def progress_of(
        self, participant: Participant, consultation: Consultation
    ) -> ConsultationProgress | None:
        query = select(ConsultationProgress).where(
            ConsultationProgress.participant_id == participant.id,
            ConsultationProgress.consultation_id == consultation.id,
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def start(
        self, participant: Participant, consultation: Consultation, at: datetime
    ) -> ConsultationProgress:
        """The person's progress row, created now unless a concurrent Start made it first."""
        await self.session.execute(
            insert(self.session, ConsultationProgress)
            .values(
                participant_id=participant.id,
                consultation_id=consultation.id,
                started_at=at,
                skipped=[],
            )
            .on_conflict_do_nothing(index_elements=["participant_id", "consultation_id"])
        )
        found = await self.progress_of(participant, consultation)
        assert found is not None
        return found

    async def awaiting(self, participant: Participant) -> ConsultationProgress | None:
        """The person's progress row waiting for typed text, if any (newest first)."""
        query = (
            select(ConsultationProgress)
            .where(
                ConsultationProgress.participant_id == participant.id,
                ConsultationProgress.awaiting_item_id.is_not(None),
            )
            .order_by(ConsultationProgress.id.desc())
            .limit(1)
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def responded(self, participant: Participant, consultation: Consultation) -> set[int]:
        """Ids of the consultation's items the person voted on or answered."""
        ids = select(Item.id).where(Item.consultation_id == consultation.id)
        query = union(
            select(Vote.item_id).where(
                Vote.participant_id == participant.id, Vote.item_id.in_(ids)
            ),
            select(Answer.item_id).where(
                Answer.participant_id == participant.id, Answer.item_id.in_(ids)
            ),
            select(StatementVote.item_id).where(
                StatementVote.participant_id == participant.id, StatementVote.item_id.in_(ids)
            ),
        )
        return {int(row[0]) for row in (await self.session.execute(query)).all()}

    async def finished(
        self, participant: Participant, items: Sequence[Item], responded: set[int]
    ) -> set[int]:
        """Of ``responded``, the items the flow moves past: all but a statements item with
        statements left that this person has not voted on (where they resume, issue 20)."""
        statements = StatementRepository(self.session)
        left = {
            item.id
            for item in items
            if item.kind == "statements"
            and item.id in responded
            and await statements.next_for(item.id, participant.id) is not None
        }
        return responded - left

    # -- whom to message ---------------------------------------------------------------------
    async def took_part(self, consultation: Consultation) -> list[Recipient]:
        """Everyone who started it or responded to one of its items, reachable and not opted
        out, once each."""
        ids = select(Item.id).where(Item.consultation_id == consultation.id)
        people = union(
            select(Vote.participant_id.label("pid")).where(Vote.item_id.in_(ids)),
            select(Answer.participant_id.label("pid")).where(Answer.item_id.in_(ids)),
            select(ConsultationProgress.participant_id.label("pid")).where(
                ConsultationProgress.consultation_id == consultation.id
            ),
        ).subquery()
        return await reachable(self.session, Participant.id.in_(select(people.c.pid)))

    async def due_reminders(
        self, now: datetime, before: timedelta
    ) -> list[tuple[ConsultationProgress, Consultation, Recipient]]:
        """Progress rows of open consultations closing within ``before``: started, unfinished,
        not yet reminded, and the person reachable and not opted out."""
        query = (
            select(ConsultationProgress, Consultation, Participant)
            .join(Consultation, Consultation.id == ConsultationProgress.consultation_id)
            .join(Participant, Participant.id == ConsultationProgress.participant_id)
            .where(
                Consultation.status == "open",
                Consultation.closes_at.is_not(None),
                Consultation.closes_at > now,
                Consultation.closes_at <= now + before,
                ConsultationProgress.completed_at.is_(None),
                ConsultationProgress.reminded_at.is_(None),
                Participant.platform_user_id.is_not(None),
                Participant.erased_at.is_(None),
                ~exists().where(MessageOptOut.participant_id == Participant.id),
            )
            .order_by(ConsultationProgress.id)
        )
        return [
            (progress, consultation, _recipient(person))
            for progress, consultation, person in (await self.session.execute(query)).all()
        ]

    async def next_reminder(self, before: timedelta) -> datetime | None:
        """When the next open consultation enters its reminder window."""
        closes = await self.session.scalar(
            select(func.min(Consultation.closes_at)).where(
                Consultation.status == "open",
                Consultation.closes_at.is_not(None),
                exists().where(
                    ConsultationProgress.consultation_id == Consultation.id,
                    ConsultationProgress.reminded_at.is_(None),
                    ConsultationProgress.completed_at.is_(None),
                ),
            )
        )
        return None if closes is None else closes - before

    async def add_response(self, response: ConsultationResponse) -> ConsultationResponse:
        self.session.add(response)
        await self.session.flush()
        return response

    async def responses(self, consultation: Consultation) -> Sequence[ConsultationResponse]:
        query = (
            select(ConsultationResponse)
            .where(ConsultationResponse.consultation_id == consultation.id)
            .order_by(ConsultationResponse.id)
        )
        return (await self.session.execute(query)).scalars().all()

    async def open_topics(self) -> list[str]:
        """The topics of consultations open now, alphabetically."""
        query = select(Consultation.topics).where(Consultation.status == "open")
        found = {t for row in (await self.session.execute(query)).scalars() for t in row or []}
        return sorted(found)

    async def open_items(self, consultation: Consultation) -> Sequence[Item]:
        query = select(Item).where(Item.consultation_id == consultation.id, Item.status == "open")
        return (await self.session.execute(query)).scalars().all()


async def reachable(session: AsyncSession, where: Any) -> list[Recipient]:
    """People matching ``where`` whom we may message: platform id kept, not erased, no STOP."""
    query = (
        select(Participant)
        .where(
            where,
            Participant.platform_user_id.is_not(None),
            Participant.erased_at.is_(None),
            ~exists().where(MessageOptOut.participant_id == Participant.id),
        )
        .order_by(Participant.id)
    )
    return [_recipient(p) for p in (await session.execute(query)).scalars()]


def _recipient(person: Participant) -> Recipient:
    assert person.platform_user_id is not None
    return Recipient(person.id, person.platform, person.platform_user_id, person.language)
