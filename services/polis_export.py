"""A statements item in Polis's CSV export layout (issue 20), for Polis's own analysis tools.

The files and headers are those Polis's report export writes (``server/src/routes/export.ts``
in compdemocracy/polis, and the openData exports):

- ``comments.csv``: timestamp, datetime, comment-id, author-id, agrees, disagrees, moderated,
  comment-body (``moderated``: 1 shown, 0 waiting for a moderator, -1 hidden);
- ``participants-votes.csv``: participant, group-id, n-comments, n-votes, n-agree,
  n-disagree, then one column per comment id: 1 agree, -1 disagree, 0 pass, empty not seen;
- ``votes.csv``: timestamp, datetime, comment-id, voter-id, vote.

Participants are numbered 1, 2, ... in the order of their first vote (Polis's ``pid``); 0 is
the policy team, the author of the seed statements. No pseudonym or platform id is written.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from services.opinion_groups import analyse
from storage.models import Item
from storage.statements import StatementRepository, StatementRow, VoteCell

COMMENTS = "comments.csv"
PARTICIPANTS_VOTES = "participants-votes.csv"
VOTES = "votes.csv"
COMMENT_COLUMNS = [
    "timestamp",
    "datetime",
    "comment-id",
    "author-id",
    "agrees",
    "disagrees",
    "moderated",
    "comment-body",
]
PARTICIPANT_COLUMNS = ["participant", "group-id", "n-comments", "n-votes", "n-agree", "n-disagree"]
VOTE_COLUMNS = ["timestamp", "datetime", "comment-id", "voter-id", "vote"]
MODERATED = {"seed": 1, "visible": 1, "held": 0, "hidden": -1}
POLICY_TEAM = 0


def js_datetime(at: datetime) -> str:
    """The way Polis writes ``datetime`` (JavaScript's ``Date.toString()``), in UTC."""
    return at.astimezone(UTC).strftime("%a %b %d %Y %H:%M:%S GMT+0000 (Coordinated Universal Time)")


@dataclass(frozen=True, slots=True)
class PolisTables:
    comments: list[list[str]]
    participants_votes: list[list[str]]
    votes: list[list[str]]


def tables(statements: Sequence[StatementRow], cells: Sequence[VoteCell]) -> PolisTables:
    pid: dict[int, int] = {}
    for cell in cells:
        pid.setdefault(cell.participant, len(pid) + 1)
    for row in statements:  # authors who never voted still get a number
        if row.author is not None:
            pid.setdefault(row.author, len(pid) + 1)
    comments = [COMMENT_COLUMNS]
    for row in statements:
        comments.append(
            [
                str(int(row.created_at.timestamp())),
                js_datetime(row.created_at),
                str(row.id),
                str(POLICY_TEAM if row.author is None else pid[row.author]),
                str(row.agree),
                str(row.disagree),
                str(MODERATED.get(row.status, 0)),
                row.text,
            ]
        )
    ids = [row.id for row in statements]
    visible = [row.id for row in statements if row.visible]
    found = analyse([(c.participant, c.statement, c.value) for c in cells], visible)
    group = {p.participant: p.group for p in found.points}
    mine: dict[int, dict[int, int]] = {}
    for cell in cells:
        mine.setdefault(cell.participant, {})[cell.statement] = cell.value
    authored: dict[int, int] = {}
    for row in statements:
        if row.author is not None:
            authored[row.author] = authored.get(row.author, 0) + 1
    people = [*pid.items()]
    votes_table = [PARTICIPANT_COLUMNS + [str(i) for i in ids]]
    for participant, number in sorted(people, key=lambda p: p[1]):
        theirs = mine.get(participant, {})
        in_group = group.get(participant)
        votes_table.append(
            [
                str(number),
                "" if in_group is None else str(in_group - 1),  # Polis numbers groups from 0
                str(authored.get(participant, 0)),
                str(len(theirs)),
                str(sum(1 for v in theirs.values() if v == 1)),
                str(sum(1 for v in theirs.values() if v == -1)),
                *("" if i not in theirs else str(theirs[i]) for i in ids),
            ]
        )
    raw = [VOTE_COLUMNS]
    for cell in cells:
        raw.append(
            [
                str(int(cell.created_at.timestamp())),
                js_datetime(cell.created_at),
                str(cell.statement),
                str(pid[cell.participant]),
                str(cell.value),
            ]
        )
    return PolisTables(comments, votes_table, raw)


async def collect(session: AsyncSession, item: Item) -> PolisTables:
    """The item's three tables, every statement and vote included (hidden ones marked)."""
    repo = StatementRepository(session)
    return tables(
        await repo.all(item.id, only_visible=False),
        await repo.cells(item.id, only_visible=False),
    )


def write(found: PolisTables, directory: Path) -> list[Path]:
    """Write the three files into ``directory`` (made if missing); their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, rows in (
        (COMMENTS, found.comments),
        (PARTICIPANTS_VOTES, found.participants_votes),
        (VOTES, found.votes),
    ):
        path = directory / name
        with path.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle, lineterminator="\n").writerows(rows)
        written.append(path)
    return written
