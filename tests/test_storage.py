"""Integrity is enforced by the database itself, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError

from storage import migrate
from storage.db import Database
from storage.items import ItemRepository, NewItem
from storage.ledger import EventLedger
from storage.models import Item, Vote
from storage.people import ParticipantRepository, pseudonym
from storage.responses import VoteRepository
from storage.vote_batches import VoteBatchRepository, VoteRow

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


async def make_poll(db: Database, kind: str = "poll") -> tuple[int, list[int]]:
    async with db.transaction() as session:
        item = await ItemRepository(session).create(
            NewItem(kind, "Q?", ["A", "B"], "test:officer", NOW)
        )
        return item.id, [o.id for o in item.options]


async def test_migrations_are_idempotent(db: Database) -> None:
    await migrate.upgrade(db)
    assert await migrate.current(db) == migrate.head()  # whatever the newest revision is


async def test_single_choice_vote_is_unique_in_the_database(db: Database) -> None:
    item_id, options = await make_poll(db)
    async with db.transaction() as session:
        person = await ParticipantRepository(session, "k" * 32).ensure("test", "u1", NOW)
        pid = person.id
    row = {
        "item_id": item_id,
        "participant_id": pid,
        "multi": False,
        "platform": "test",
        "created_at": NOW,
    }
    async with db.transaction() as session:
        await session.execute(insert(Vote).values(option_id=options[0], **row))
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            await session.execute(insert(Vote).values(option_id=options[1], **row))


async def test_multi_choice_allows_several_options_but_not_twice_the_same(db: Database) -> None:
    item_id, options = await make_poll(db, "multi")
    async with db.transaction() as session:
        pid = (await ParticipantRepository(session, "k" * 32).ensure("test", "u1", NOW)).id
    row = {
        "item_id": item_id,
        "participant_id": pid,
        "multi": True,
        "platform": "test",
        "created_at": NOW,
    }
    async with db.transaction() as session:
        await session.execute(insert(Vote).values(option_id=options[0], **row))
        await session.execute(insert(Vote).values(option_id=options[1], **row))
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            await session.execute(insert(Vote).values(option_id=options[1], **row))


async def test_check_constraints_and_foreign_keys(db: Database) -> None:
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            session.add(
                Item(
                    short_id="bad001",
                    kind="quiz",
                    question="Q?",
                    status="open",
                    results_visibility="live",
                    created_at=NOW,
                    created_by="x",
                )
            )
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            session.add(
                Item(
                    short_id="bad002",
                    kind="poll",
                    question="",
                    status="open",
                    results_visibility="live",
                    created_at=NOW,
                    created_by="x",
                )
            )
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            await session.execute(
                text("INSERT INTO options (item_id, position, label) VALUES (999999, 1, 'orphan')")
            )


async def test_processed_events_are_claimed_once(db: Database) -> None:
    async with db.transaction() as session:
        assert await EventLedger(session).claim("slack", "Ev1", NOW)
        assert not await EventLedger(session).claim("slack", "Ev1", NOW)
        assert await EventLedger(session).claim("telegram", "Ev1", NOW)


async def test_participants_are_pseudonymous_and_stable(db: Database) -> None:
    async with db.transaction() as session:
        repo = ParticipantRepository(session, "k" * 32)
        first = await repo.ensure("telegram", "4242", NOW)
        again = await repo.ensure("telegram", "4242", NOW)
        other = await repo.ensure("slack", "4242", NOW)
    assert first.id == again.id != other.id
    assert first.pseudonym == pseudonym("k" * 32, "telegram", "4242")
    assert "4242" not in first.pseudonym and len(first.pseudonym) == 64


async def test_vote_changes_replace_and_tallies_read_in_fixed_queries(db: Database) -> None:
    item_id, _ = await make_poll(db)
    async with db.transaction() as session:
        item = (await session.execute(select(Item).where(Item.id == item_id))).scalar_one()
        people = ParticipantRepository(session, "k" * 32)
        batch = VoteBatchRepository(session, "k" * 32)
        ids = [(await people.ensure("test", f"u{n}", NOW)).id for n in range(20)]
        rows = [VoteRow(item.id, pid, item.options[n % 2].id, "test") for n, pid in enumerate(ids)]
        await batch.write(NOW, single=rows)
        await batch.write(NOW, single=[VoteRow(item.id, ids[0], item.options[1].id, "test")])
        assert await batch.chosen([(item.id, ids[0])]) == {(item.id, ids[0]): {item.options[1].id}}
        tally = await VoteRepository(session).tally(item)
    assert tally.votes_by_option == {1: 9, 2: 11}
    assert tally.participants == 20 and tally.responses == 20


async def test_datetimes_round_trip_as_utc(db: Database) -> None:
    await make_poll(db)
    async with db.transaction() as session:
        item = (await session.execute(select(Item))).scalars().first()
    assert item is not None and item.created_at == NOW and item.created_at.tzinfo is not None
