"""Set-based statements for a batch of vote clicks: a fixed number per batch, whatever its size.

Used by the grouped write path (``bot/batcher.py`` + ``handlers/polls.py``): ledger rows,
participants, votes (one statement per kind of change) in the batch's one transaction. The
vote counters follow the votes by trigger (migration 0009), in the same statements.

On PostgreSQL the reads and inserts whose size is the batch's take their values as arrays
(``= ANY(:keys)``, ``unnest(...)``): one SQL text whatever the batch's size, prepared once per
connection and compiled once per process. An ``IN (...)`` list or a multi-row ``VALUES`` is a
different statement for every batch size (re-prepared as the driver's statement cache churns,
and re-rendered with a cast per value every time: docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Table, delete, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import insert, is_postgresql, pg_batch
from storage.models import SINGLE_CHOICE_WHERE, Participant, Vote
from storage.people import pseudonym

_people: Table = Participant.__table__  # type: ignore[assignment]
_votes: Table = Vote.__table__  # type: ignore[assignment]


_PG_PEOPLE = pg_batch(
    "SELECT pseudonym, id, consented_at IS NOT NULL, language FROM participants"
    " WHERE pseudonym = ANY(CAST(:keys AS varchar[]))",
    ("keys", String),
)
_PG_ADD_PEOPLE = pg_batch(
    "INSERT INTO participants (pseudonym, platform, platform_user_id, created_at, consented_at)"
    " SELECT k, p, u, :at, :at"
    " FROM unnest(CAST(:keys AS varchar[]), CAST(:platforms AS varchar[]),"
    " CAST(:users AS varchar[])) AS t(k, p, u)"
    " ON CONFLICT (pseudonym) DO NOTHING RETURNING pseudonym, id",
    ("keys", String),
    ("platforms", String),
    ("users", String),
    at=True,
)
_PG_CHOSEN = pg_batch(
    "SELECT v.item_id, v.participant_id, v.option_id FROM votes AS v"
    " JOIN unnest(CAST(:items AS integer[]), CAST(:people AS integer[])) AS t(i, p)"
    " ON v.item_id = t.i AND v.participant_id = t.p",
    ("items", Integer),
    ("people", Integer),
)
_PG_VOTE_ARRAYS = (
    ("items", Integer),
    ("people", Integer),
    ("options", Integer),
    ("platforms", String),
)
_PG_VOTE_ROWS = (
    "SELECT i, p, o, :multi, f, :at FROM unnest(CAST(:items AS integer[]),"
    " CAST(:people AS integer[]), CAST(:options AS integer[]), CAST(:platforms AS varchar[]))"
    " AS t(i, p, o, f)"
)
_VOTE_COLUMNS = "votes (item_id, participant_id, option_id, multi, platform, created_at)"
#: One statement for the batch's single-choice votes (the tally triggers fire once for it;
#: an executemany is one statement, and one trigger run, per vote).
_PG_SINGLE = pg_batch(
    f"INSERT INTO {_VOTE_COLUMNS} {_PG_VOTE_ROWS}"
    f" ON CONFLICT (item_id, participant_id) WHERE {SINGLE_CHOICE_WHERE}"
    " DO UPDATE SET option_id = excluded.option_id, created_at = excluded.created_at",
    *_PG_VOTE_ARRAYS,
    at=True,
).bindparams(multi=False)
_PG_MULTI_ADD = pg_batch(
    f"INSERT INTO {_VOTE_COLUMNS} {_PG_VOTE_ROWS}"
    " ON CONFLICT (item_id, participant_id, option_id) DO NOTHING",
    *_PG_VOTE_ARRAYS,
    at=True,
).bindparams(multi=True)


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
        if is_postgresql(self.session):
            found = await self.session.execute(_PG_PEOPLE, {"keys": keys})
            return {
                key: Person(pid, consented, language) for key, pid, consented, language in found
            }
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
        if is_postgresql(self.session):
            keys, platforms, users = (list(column) for column in zip(*new, strict=True))
            params = {"keys": keys, "platforms": platforms, "users": users, "at": at}
            return {key: pid for key, pid in await self.session.execute(_PG_ADD_PEOPLE, params)}
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
        if is_postgresql(self.session):
            items, people = ([pair[i] for pair in pairs] for i in (0, 1))
            rows = await self.session.execute(_PG_CHOSEN, {"items": items, "people": people})
            for item_id, participant_id, option_id in rows:
                found[(item_id, participant_id)].add(option_id)
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
        if is_postgresql(self.session):
            for rows, stmt in ((single, _PG_SINGLE), (multi_add, _PG_MULTI_ADD)):
                if rows:
                    await self.session.execute(stmt, _arrays(rows, at))
            return
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


def _arrays(votes: Sequence[VoteRow], at: datetime) -> dict[str, Any]:
    return {
        "items": [v.item_id for v in votes],
        "people": [v.participant_id for v in votes],
        "options": [v.option_id for v in votes],
        "platforms": [v.platform for v in votes],
        "at": at,
    }


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
