"""Opinion groups of statements items (issue 20): the Polis method on a planted matrix, and the
Polis-layout CSV export read back to the same matrix (SQLite and PostgreSQL, through the CLI)."""

from __future__ import annotations

import asyncio
import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy import text as sql

from services import polis_export
from services.opinion_groups import analyse, analyse_cached
from storage.db import Database
from storage.items import ItemRepository, NewItem
from storage.models import Answer, Base, Statement, StatementVote
from storage.people import ParticipantRepository, PrivacyRepository
from storage.statements import ERASED, StatementRepository
from townhall.cli import main

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SECRET = "groups-test-secret-0123456789abcdef"


def two_camps(per_camp: int, seed: int = 7) -> list[tuple[int, int, int]]:
    """Camp A agrees with statements 1-4 and disagrees with 5-8, camp B the reverse; both agree
    with 9 and 10. One vote in ten is a pass, one in ten is not given."""
    rng = np.random.default_rng(seed)
    cells = []
    for person in range(2 * per_camp):
        camp = 1 if person < per_camp else -1
        for statement in range(1, 11):
            if rng.random() < 0.1:
                continue
            value = 1 if statement > 8 else (camp if statement <= 4 else -camp)
            cells.append((person, statement, 0 if rng.random() < 0.1 else value))
    return cells


def test_a_planted_two_camp_matrix_gives_two_groups_and_their_consensus() -> None:
    cells = two_camps(20)
    cells += [(99, 1, 1), (99, 5, -1)]  # two votes: on the map, in no group
    found = analyse(cells)
    voted = {p: sum(1 for q, _, _ in cells if q == p) for p in range(40)}
    placed = [[p for p in camp if voted[p] >= 7] for camp in (range(20), range(20, 40))]
    assert sorted(g.size for g in found.groups) == sorted(map(len, placed))
    assert 15 <= len(placed[0]) < 20 or 15 <= len(placed[1]) < 20  # the 7-vote rule applies
    group = {p.participant: p.group for p in found.points}
    a, b = ({group[p] for p in camp} for camp in placed)
    assert len(a) == len(b) == 1 and a != b
    assert group[99] is None and all(group[p] is None for p in voted if voted[p] < 7)
    assert found.consensus == [9, 10]
    camp_a = found.groups[0] if group[0] == found.groups[0].id else found.groups[1]
    assert set(camp_a.representative) <= set(range(1, 9)) and camp_a.representative
    assert analyse(cells) == found  # deterministic


def test_the_analysis_is_kept_until_a_vote_changes() -> None:
    cells, shown = two_camps(10), list(range(1, 11))
    first = analyse_cached(-1, cells, shown)
    assert analyse_cached(-1, list(cells), shown) is first  # the same votes: not recomputed
    person, statement, value = cells[-1]
    changed = [*cells, (person, statement, 1 if value != 1 else -1)]  # a vote changed
    assert analyse_cached(-1, changed, shown) is not first
    assert analyse_cached(-1, cells, shown[:-1]) is not first  # a statement hidden


def test_one_camp_is_no_grouping() -> None:
    found = analyse([(p, s, 1) for p in range(12) for s in range(1, 9)])
    assert found.groups == [] and found.consensus == list(range(1, 9))


# -- the database, the CLI and the Polis layout ------------------------------------------------


def _seed(db_url: str) -> tuple[str, dict[int, dict[int, int]], list[int]]:
    """A statements item with 6 seeds, a citizen's approved statement and a held one; 16 people
    in two camps and one who voted twice. Returns the item id, the votes per person and the
    statement ids."""

    async def go() -> tuple[str, dict[int, dict[int, int]], list[int]]:
        database = Database(db_url)
        try:
            if not database.is_sqlite:
                async with database.transaction() as session:
                    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
                    await session.execute(sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            async with database.transaction() as session:
                item = await ItemRepository(session).create(
                    NewItem("statements", "What should the town centre become?", [], "t:o", T0)
                )
                repo = StatementRepository(session)
                people = ParticipantRepository(session, SECRET)
                ids = [(await repo.add(item.id, f"Seed {n}", T0)).id for n in range(1, 7)]
                persons = [await people.ensure("slack", f"U{n:04d}", T0) for n in range(17)]
                for n, status in ((0, "visible"), (1, "held")):
                    answer = Answer(
                        item_id=item.id,
                        participant_id=persons[n].id,
                        platform="slack",
                        text=f"Citizen says {n}",
                        status=status,
                        flags=[],
                        created_at=T0,
                    )
                    session.add(answer)
                    await session.flush()
                    added = await repo.add(item.id, answer.text, T0, answer_id=answer.id)
                    if status == "visible":
                        ids.append(added.id)
                votes: dict[int, dict[int, int]] = {}
                for n, person in enumerate(persons):
                    camp = 1 if n < 8 else -1
                    mine = {
                        s: (1 if i >= 4 else camp if i < 2 else -camp) for i, s in enumerate(ids)
                    }
                    if n == 3:
                        mine[ids[2]] = 0  # a pass
                    if n == 16:
                        mine = {ids[0]: 1, ids[1]: -1}
                    for j, (s, v) in enumerate(mine.items()):
                        shown = await repo.get(item.id, s)
                        assert shown is not None
                        at = T0 + timedelta(minutes=n, seconds=j)
                        await repo.vote(shown, person, v, at)
                    votes[person.id] = mine
                return item.short_id, votes, ids
        finally:
            await database.dispose()

    return asyncio.run(go())


def read_polis(folder: Path) -> tuple[list[dict[str, str]], list[dict[str, str]], list[str]]:
    """What a Polis analysis tool reads: the comments, the participants' rows, their header."""
    with (folder / "comments.csv").open(newline="", encoding="utf-8") as f:
        comments = list(csv.DictReader(f))
    with (folder / "participants-votes.csv").open(newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    with (folder / "participants-votes.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return comments, rows, header


def test_polis_export_reads_back_to_the_same_matrix(
    db_url: str, fresh_sqlite: bool, tmp_path: Path
) -> None:
    item, votes, ids = _seed(db_url)
    env = {"TOWNHALL_DATABASE_URL": db_url, "TOWNHALL_SECRET_KEY": SECRET}
    runner = CliRunner()
    out = runner.invoke(main, ["export", item, "--format", "polis", "-o", str(tmp_path)], env=env)
    assert out.exit_code == 0, out.output
    comments, rows, header = read_polis(tmp_path)

    assert list(comments[0]) == polis_export.COMMENT_COLUMNS
    polis = "participant,group-id,n-comments,n-votes,n-agree,n-disagree"  # Polis's header
    assert header[:6] == polis.split(",")
    every = [int(c["comment-id"]) for c in comments]
    assert header[6:] == [str(i) for i in every] and set(ids) < set(every)
    assert [c["moderated"] for c in comments] == ["1"] * 7 + ["0"]  # the held one: 0
    matrix = sorted(
        sorted((int(k), int(v)) for k, v in row.items() if k.isdigit() and v != "") for row in rows
    )
    assert matrix == sorted(sorted(mine.items()) for mine in votes.values())
    groups = {row["group-id"] for row in rows}
    assert groups == {"0", "1", ""}  # two groups; the person with two votes in none
    assert sum(int(r["n-comments"]) for r in rows) == 2

    shown = runner.invoke(main, ["results", item, "--json"], env=env)
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert [s["id"] for s in data["statements"]] == ids  # the held statement is not shown
    assert [g["size"] for g in data["groups"]] == [8, 8]
    assert data["consensus"] == ids[4:]
    first = data["statements"][0]
    assert (first["agree"], first["disagree"], first["pass"]) == (9, 8, 0)
    # The shape exactly: no more keys, statement ids in groups and consensus.
    assert all(set(s) == {"id", "text", "agree", "disagree", "pass"} for s in data["statements"])
    assert all(set(g) == {"id", "size", "representative"} for g in data["groups"])
    assert {i for g in data["groups"] for i in g["representative"]} <= set(ids)

    # The author of the citizen's statement is forgotten: its text goes (a tombstone, out of
    # the results and the export); the others' votes on it stay theirs but count nowhere.
    author, citizens = next(iter(votes)), ids[6]
    assert _erase(db_url, author) == 15  # the 15 other people's votes on it
    shown = runner.invoke(main, ["results", item, "--json"], env=env)
    assert [s["id"] for s in json.loads(shown.stdout)["statements"]] == ids[:6]
    again = tmp_path / "after"
    out = runner.invoke(main, ["export", item, "--format", "polis", "-o", str(again)], env=env)
    assert out.exit_code == 0, out.output
    comments, rows, header = read_polis(again)
    assert str(citizens) not in header and "Citizen says 0" not in str(comments)
    assert len(rows) == 16 and all(r["participant"] != "" for r in rows)


def _erase(db_url: str, participant_id: int) -> int:
    """``forget`` for one person; the votes left on the statements they wrote."""

    async def go() -> int:
        database = Database(db_url)
        try:
            async with database.transaction() as session:
                person = await ParticipantRepository(session, SECRET).get(participant_id)
                assert person is not None
                await PrivacyRepository(session).erase(person, T0)
            async with database.transaction() as session:
                left = await session.execute(
                    select(func.count())
                    .select_from(StatementVote)
                    .join(Statement, Statement.id == StatementVote.statement_id)
                    .where(Statement.erased_at.is_not(None), Statement.text == ERASED)
                )
                return int(left.scalar_one())
        finally:
            await database.dispose()

    return asyncio.run(go())
