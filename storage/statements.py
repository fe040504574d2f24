"""Statements of a ``statements`` item and the agree/disagree/pass votes on them (issue 20)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage.dialect import insert, rowcount
from storage.models import Answer, Participant, Statement, StatementVote

#: What an erased statement's text becomes (never shown: erased statements are left out).
ERASED = "(erased)"

#: The votes a person can give, as stored.
AGREE, DISAGREE, PASS = 1, -1, 0


@dataclass(frozen=True, slots=True)
class StatementRow:
    id: int
    text: str
    created_at: datetime
    #: The author's pseudonymous participant id (None: seeded by the policy team).
    author: int | None
    #: Shown to citizens (a seed, or an answer a moderator has let through).
    visible: bool
    #: "seed", or the answer's status (visible, held, hidden).
    status: str
    agree: int = 0
    disagree: int = 0
    passed: int = 0


@dataclass(frozen=True, slots=True)
class Shown:
    """A statement as citizens see it (a citizen's as their answer reads now, redactions in)."""

    id: int
    item_id: int
    text: str


@dataclass(frozen=True, slots=True)
class VoteCell:
    participant: int
    statement: int
    value: int
    created_at: datetime


def _kept() -> ColumnElement[bool]:
    """Not erased: a statement whose author asked to be forgotten is a tombstone (its text
    gone, its id never reused), out of the flow, the analysis, the results and the exports."""
    return Statement.erased_at.is_(None)


def _visible() -> ColumnElement[bool]:
    return and_(_kept(), or_(Statement.answer_id.is_(None), Answer.status == "visible"))


class StatementRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self, item_id: int, text: str, at: datetime, *, answer_id: int | None = None
    ) -> Statement:
        statement = Statement(item_id=item_id, text=text, created_at=at, answer_id=answer_id)
        self.session.add(statement)
        await self.session.flush()
        return statement

    async def get(self, item_id: int, statement_id: int) -> Shown | None:
        """The statement, if it belongs to the item and is shown to citizens."""
        row = await self.session.execute(
            select(Statement.id, Statement.item_id, func.coalesce(Answer.text, Statement.text))
            .outerjoin(Answer, Answer.id == Statement.answer_id)
            .where(Statement.id == statement_id, Statement.item_id == item_id, _visible())
        )
        found = row.first()
        return None if found is None else Shown(*found)

    async def all(self, item_id: int, *, only_visible: bool = True) -> list[StatementRow]:
        """Every statement of the item with its counts, oldest first (two queries)."""
        query = (
            select(
                Statement.id,
                func.coalesce(Answer.text, Statement.text),
                Statement.created_at,
                Answer.participant_id,
                Answer.status,
            )
            .outerjoin(Answer, Answer.id == Statement.answer_id)
            .where(Statement.item_id == item_id, _kept())
            .order_by(Statement.id)
        )
        if only_visible:
            query = query.where(_visible())
        rows = (await self.session.execute(query)).all()
        counts = await self.session.execute(
            select(StatementVote.statement_id, StatementVote.value, func.count())
            .where(StatementVote.item_id == item_id)
            .group_by(StatementVote.statement_id, StatementVote.value)
        )
        tally: dict[tuple[int, int], int] = {(s, v): int(n) for s, v, n in counts.all()}
        return [
            StatementRow(
                sid,
                text,
                at,
                author,
                status is None or status == "visible",
                status or "seed",
                tally.get((sid, AGREE), 0),
                tally.get((sid, DISAGREE), 0),
                tally.get((sid, PASS), 0),
            )
            for sid, text, at, author, status in rows
        ]

    async def next_for(self, item_id: int, participant_id: int | None) -> Shown | None:
        """The visible statement this person has not voted on with the fewest votes (oldest
        first among equals), or None when they have seen them all."""
        votes = (
            select(StatementVote.statement_id, func.count().label("n"))
            .where(StatementVote.item_id == item_id)
            .group_by(StatementVote.statement_id)
            .subquery()
        )
        query = (
            select(Statement.id, Statement.item_id, func.coalesce(Answer.text, Statement.text))
            .outerjoin(Answer, Answer.id == Statement.answer_id)
            .outerjoin(votes, votes.c.statement_id == Statement.id)
            .where(Statement.item_id == item_id, _visible())
            .order_by(func.coalesce(votes.c.n, 0), Statement.id)
            .limit(1)
        )
        if participant_id is not None:
            mine = select(StatementVote.statement_id).where(
                StatementVote.participant_id == participant_id,
                StatementVote.item_id == item_id,
            )
            query = query.where(Statement.id.not_in(mine))
            # A person is not asked about their own statement.
            query = query.where(
                or_(Answer.participant_id.is_(None), Answer.participant_id != participant_id)
            )
        found = (await self.session.execute(query)).first()
        return None if found is None else Shown(*found)

    async def vote(
        self, statement: Shown, participant: Participant, value: int, at: datetime
    ) -> None:
        """Record (or replace) this person's vote on the statement."""
        stmt = insert(self.session, StatementVote).values(
            item_id=statement.item_id,
            statement_id=statement.id,
            participant_id=participant.id,
            value=value,
            platform=participant.platform,
            created_at=at,
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["statement_id", "participant_id"],
                set_={"value": value, "created_at": at},
            )
        )

    async def cells(self, item_id: int, *, only_visible: bool = True) -> list[VoteCell]:
        """Every vote on the item's (visible) statements, in the order given."""
        query = (
            select(
                StatementVote.participant_id,
                StatementVote.statement_id,
                StatementVote.value,
                StatementVote.created_at,
            )
            .join(Statement, Statement.id == StatementVote.statement_id)
            .outerjoin(Answer, Answer.id == Statement.answer_id)
            .where(StatementVote.item_id == item_id, _kept())
            .order_by(StatementVote.created_at, StatementVote.id)
        )
        if only_visible:
            query = query.where(_visible())
        rows = await self.session.execute(query)
        return [VoteCell(p, s, v, at) for p, s, v, at in rows.all()]

    async def participants(self, item_id: int) -> int:
        """The people who voted on a visible statement: the count a card shows, without the
        analysis (the same number as the opinion map's points)."""
        row = await self.session.execute(
            select(func.count(func.distinct(StatementVote.participant_id)))
            .join(Statement, Statement.id == StatementVote.statement_id)
            .outerjoin(Answer, Answer.id == Statement.answer_id)
            .where(StatementVote.item_id == item_id, _visible())
        )
        return int(row.scalar_one())

    async def erase_authored(self, answer_ids: Select[Any], at: datetime) -> int:
        """Their author is forgotten: the statements made from ``answer_ids`` become
        tombstones (text erased, no link to the answer, which is deleted next). Other
        people's votes on them stay theirs (each voter's own data, erased with their own
        ``forget``) but count nowhere, as with a hidden statement."""
        result = await self.session.execute(
            update(Statement)
            .where(Statement.answer_id.in_(answer_ids))
            .values(answer_id=None, text=ERASED, erased_at=at)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result)

    async def by_platform(self, item_id: int) -> dict[str, int]:
        rows = await self.session.execute(
            select(StatementVote.platform, func.count(func.distinct(StatementVote.participant_id)))
            .join(Statement, Statement.id == StatementVote.statement_id)
            .outerjoin(Answer, Answer.id == Statement.answer_id)
            .where(StatementVote.item_id == item_id, _visible())  # as ``participants``
            .group_by(StatementVote.platform)
        )
        return {platform: int(n) for platform, n in rows.all()}

    async def for_answers(self, answer_ids: Sequence[int]) -> dict[int, int]:
        """answer id -> statement id, for the answers that are statements."""
        if not answer_ids:
            return {}
        rows = await self.session.execute(
            select(Statement.answer_id, Statement.id).where(
                and_(Statement.answer_id.is_not(None), Statement.answer_id.in_(answer_ids))
            )
        )
        return {int(a): int(s) for a, s in rows.all() if a is not None}
