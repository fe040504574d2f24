"""People's answers to "about you" questions (services/profile.py), and the counts that break
an item's results down by one of them (always shown through services/breakdown.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import insert, rowcount
from storage.models import Answer, Item, Option, Participant, ProfileAnswer, Vote


class ProfileRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def asked(self, participant: Participant) -> set[str]:
        """The questions this person answered or declined (never asked again)."""
        query = select(ProfileAnswer.question).where(ProfileAnswer.participant_id == participant.id)
        return set((await self.session.execute(query)).scalars().all())

    async def record(
        self, participant: Participant, question: str, value: str | None, at: datetime
    ) -> bool:
        """Keep the first answer (a second click on an old card changes nothing)."""
        result = await self.session.execute(
            insert(self.session, ProfileAnswer)
            .values(participant_id=participant.id, question=question, value=value, answered_at=at)
            .on_conflict_do_nothing(index_elements=["participant_id", "question"])
        )
        return bool(rowcount(result))

    async def questions(self) -> list[str]:
        """Every question anyone has answered, for choosing a breakdown."""
        query = select(ProfileAnswer.question).distinct().order_by(ProfileAnswer.question)
        return list((await self.session.execute(query)).scalars().all())

    async def vote_counts(self, item: Item, question: str) -> dict[tuple[str | None, int], int]:
        """(profile value or None, option position) -> votes on ``item``."""
        query = (
            select(ProfileAnswer.value, Option.position, func.count(Vote.id))
            .select_from(Vote)
            .join(Option, Option.id == Vote.option_id)
            .outerjoin(ProfileAnswer, _answer_of(Vote.participant_id, question))
            .where(Vote.item_id == item.id)
            .group_by(ProfileAnswer.value, Option.position)
        )
        rows = (await self.session.execute(query)).all()
        return {(value, int(position)): int(n) for value, position, n in rows}

    async def answer_counts(
        self, item: Item, question: str, statuses: Sequence[str]
    ) -> dict[str | None, int]:
        """Profile value or None -> answers shown on ``item``."""
        query = (
            select(ProfileAnswer.value, func.count(Answer.id))
            .select_from(Answer)
            .outerjoin(ProfileAnswer, _answer_of(Answer.participant_id, question))
            .where(Answer.item_id == item.id, Answer.status.in_(statuses))
            .group_by(ProfileAnswer.value)
        )
        return {value: int(n) for value, n in (await self.session.execute(query)).all()}


def _answer_of(participant_id: Any, question: str) -> Any:
    return and_(ProfileAnswer.participant_id == participant_id, ProfileAnswer.question == question)
