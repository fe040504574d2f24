"""Set-based statements for a batch of vote clicks: a fixed number per batch, whatever its size.

Used by the grouped write path (``bot/batcher.py`` + ``handlers/polls.py``): ledger rows,
participants, votes (one statement per kind of change) in the batch's one transaction. The
vote counters follow the votes by trigger (migration 0009), in the same statements.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import insert
from storage.models import SINGLE_CHOICE_WHERE, Participant, Vote
from storage.people import pseudonym

_people: Table = Participant.__table__  # type: ignore[assignment]
_votes: Table = Vote.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    consented: bool
    #: The language the person chose (``language cy``), if they did.
    language: str | None = None


@dataclass(frozen=True, slots=True)
class VoteRow:
    item_id: int
    participant_id: int
    option_id: int
    platform: str


class VoteBatchRepository:
    def __init__(self, session: AsyncSession, secret_key: str) -> None:
        self.session = session
        self.secret_key = secret_key

    def pseudonym(self, platform: str, user_id: str) -> str:
        return pseudonym(self.secret_key, platform, user_id)

    async def people(self, keys: Iterable[str]) -> dict[str, Person]:
        """Pseudonym -> participant id and whether they consented, for those who exist."""
        keys = list(keys)
        if not keys:
            return {}
        query = select(
            _people.c.pseudonym, _people.c.id, _people.c.consented_at, _people.c.language
        ).where(_people.c.pseudonym.in_(keys))
        rows = (await self.session.execute(query)).all()
        return {
            key: Person(pid, consented is not None, language)
            for key, pid, consented, language in rows
        }

    async def add_people(self, new: Sequence[tuple[str, str, str]], at: datetime) -> dict[str, int]:
        """Create participants (pseudonym, platform, user id) who consent by voting now
        (notice mode); returns pseudonym -> id of those created (someone created meanwhile by
        another transaction is left as is, and not returned)."""
        if not new:
            return {}
        stmt = (
            insert(self.session, _people)
            .on_conflict_do_nothing(index_elements=["pseudonym"])
            .returning(_people.c.pseudonym, _people.c.id)
        )
        rows = [
            {
                "pseudonym": key,
                "platform": platform,
                "platform_user_id": user_id,
                "created_at": at,
                "consented_at": at,
            }
            for key, platform, user_id in new
        ]
        return {key: pid for key, pid in (await self.session.execute(stmt, rows)).all()}

    async def mark_consented(self, ids: Sequence[int], at: datetime) -> None:
        if ids:
            await self.session.execute(
                update(_people)
                .where(_people.c.id.in_(ids), _people.c.consented_at.is_(None))
                .values(consented_at=at)
            )

    async def chosen(
        self, pairs: Iterable[tuple[int, int]], *, new: set[int] | frozenset[int] = frozenset()
    ) -> dict[tuple[int, int], set[int]]:
        """(item id, participant id) -> option ids chosen now, for the given pairs (people in
        ``new`` were created in this transaction: they have chosen nothing yet)."""
        found: dict[tuple[int, int], set[int]] = {pair: set() for pair in pairs}
        pairs = [pair for pair in found if pair[1] not in new]
        if not pairs:
            return found
        query = select(_votes.c.item_id, _votes.c.participant_id, _votes.c.option_id).where(
            tuple_(_votes.c.item_id, _votes.c.participant_id).in_(pairs)
        )
        for item_id, participant_id, option_id in (await self.session.execute(query)).all():
            found[(item_id, participant_id)].add(option_id)
        return found

    async def write(
        self,
        at: datetime,
        *,
        single: Sequence[VoteRow] = (),
        multi_add: Sequence[VoteRow] = (),
        multi_remove: Sequence[tuple[int, int, int]] = (),
    ) -> None:
        """Apply the batch's net changes: one statement per kind of change."""
        if multi_remove:
            await self.session.execute(
                delete(_votes).where(
                    tuple_(_votes.c.item_id, _votes.c.participant_id, _votes.c.option_id).in_(
                        list(multi_remove)
                    )
                )
            )
        if single:
            base = insert(self.session, _votes)
            stmt = base.on_conflict_do_update(
                index_elements=["item_id", "participant_id"],
                index_where=text(SINGLE_CHOICE_WHERE),
                set_={"option_id": base.excluded.option_id, "created_at": base.excluded.created_at},
            )
            await self.session.execute(stmt, _rows(single, multi=False, at=at))
        if multi_add:
            stmt = insert(self.session, _votes).on_conflict_do_nothing(
                index_elements=["item_id", "participant_id", "option_id"]
            )
            await self.session.execute(stmt, _rows(multi_add, multi=True, at=at))


def _rows(votes: Sequence[VoteRow], *, multi: bool, at: datetime) -> list[dict[str, Any]]:
    return [
        {
            "item_id": v.item_id,
            "participant_id": v.participant_id,
            "option_id": v.option_id,
            "multi": multi,
            "platform": v.platform,
            "created_at": at,
        }
        for v in votes
    ]
