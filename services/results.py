"""Results of an item, computed once and shown everywhere: cards, CLI, exports."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # light to import: the CLI's fast path prints ItemResults without an ORM
    from sqlalchemy.ext.asyncio import AsyncSession

    from storage.models import Item

PUBLIC_STATUSES = ("visible",)
ALL_STATUSES = ("visible", "held", "hidden")


@dataclass(frozen=True, slots=True)
class OptionResult:
    position: int
    label: str
    votes: int
    percent: float


@dataclass(frozen=True, slots=True)
class AnswerRow:
    text: str
    platform: str
    status: str
    created_at: str
    #: The language it was written in (``cy``/``en``; "" before issue 18 recorded it).
    language: str = ""


@dataclass(frozen=True, slots=True)
class StatementResult:
    id: int
    text: str
    agree: int
    disagree: int
    passed: int


@dataclass(frozen=True, slots=True)
class GroupResult:
    id: int
    size: int
    representative: list[int]
    #: statement id -> share of the group's voters on it who agree (0-100)
    agree_percent: dict[int, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Conversation:
    """A statements item's statements, opinion groups and consensus (issue 20)."""

    statements: list[StatementResult]
    groups: list[GroupResult]
    consensus: list[int]
    #: (participant id, x, y, group id or None) per voter: the opinion map.
    points: list[tuple[int, float, float, int | None]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "statements": [
                {
                    "id": s.id,
                    "text": s.text,
                    "agree": s.agree,
                    "disagree": s.disagree,
                    "pass": s.passed,
                }
                for s in self.statements
            ],
            "groups": [
                {"id": g.id, "size": g.size, "representative": g.representative}
                for g in self.groups
            ],
            "consensus": self.consensus,
        }


@dataclass(frozen=True, slots=True)
class ItemResults:
    id: str
    kind: str
    question: str
    status: str
    participants: int
    responses: int
    options: list[OptionResult] = field(default_factory=list)
    by_platform: dict[str, int] = field(default_factory=dict)
    answers: list[AnswerRow] = field(default_factory=list)
    #: A statements item's opinion groups (``services.opinion_groups``); None otherwise.
    conversation: Conversation | None = None

    def to_json(self) -> dict[str, Any]:
        """The documented ``townhall results ID --json`` shape (other tools rely on it)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "question": self.question,
            "status": self.status,
            "participants": self.participants,
            "responses": self.responses,
            "options": [{"label": o.label, "votes": o.votes} for o in self.options],
            "by_platform": dict(sorted(self.by_platform.items())),
            "answers": [
                {"text": a.text, "platform": a.platform, "status": a.status, "language": a.language}
                for a in self.answers
            ],
            **(self.conversation.to_json() if self.conversation is not None else {}),
        }


def uncounted(item: Item) -> ItemResults:
    """The item's results shape with every count at zero (what a card needs to be drawn when
    its counts are not shown, e.g. to read a submitted form against its options)."""
    options = [OptionResult(o.position, o.label, 0, 0.0) for o in item.options]
    return ItemResults(item.short_id, item.kind, item.question, item.status, 0, 0, options)


async def compute(
    session: AsyncSession,
    item: Item,
    *,
    include_hidden: bool = False,
    answer_limit: int | None = None,
    groups: bool = True,
) -> ItemResults:
    """Counts with a fixed number of queries, whatever the number of options or votes.

    ``groups=False``: a statements item's counts only (people, statements, platforms), not its
    opinion groups: what a card shows. The analysis (PCA, k-means) is for results, the
    dashboard and exports; a card refresh on a busy conversation must not run it per vote."""
    from storage.responses import AnswerRepository, VoteRepository
    from storage.statements import StatementRepository

    options: list[OptionResult] = []
    answers: list[AnswerRow] = []
    if item.is_choice:
        tally = await VoteRepository(session).tally(item)
        # Single choice: share of votes. Multi choice: share of participants who chose it.
        base = tally.participants if item.kind == "multi" else tally.responses
        options = [
            OptionResult(
                o.position,
                o.label,
                tally.votes_by_option[o.position],
                round(100 * tally.votes_by_option[o.position] / base, 1) if base else 0.0,
            )
            for o in item.options
        ]
    else:
        statuses = ALL_STATUSES if include_hidden else PUBLIC_STATUSES
        repo = AnswerRepository(session)
        tally = await repo.tally(item, statuses=statuses)
        rows = await repo.for_item(item, statuses=statuses, limit=answer_limit, newest_first=True)
        answers = [
            AnswerRow(a.text, a.platform, a.status, a.created_at.isoformat(), a.language or "")
            for a in reversed(rows)
        ]
    conversation = None
    if item.kind == "statements":
        said = StatementRepository(session)
        if groups:
            conversation = await conversation_of(session, item.id)
            voters = len(conversation.points)
        else:
            voters = await said.participants(item.id)
        tally = replace(tally, participants=voters, by_platform=await said.by_platform(item.id))
    return ItemResults(
        item.short_id,
        item.kind,
        item.question,
        item.status,
        tally.participants,
        tally.responses,
        options=options,
        by_platform=tally.by_platform,
        answers=answers,
        conversation=conversation,
    )


async def conversation_of(session: AsyncSession, item_id: int) -> Conversation:
    """The statements with their counts, and the groups found in the votes."""
    from services.opinion_groups import analyse_cached
    from storage.statements import StatementRepository

    repo = StatementRepository(session)
    rows = await repo.all(item_id)
    cells = [(c.participant, c.statement, c.value) for c in await repo.cells(item_id)]
    # k-means and the silhouette take a while on big items: off the event loop, and kept
    # until the item's votes change
    found = await asyncio.to_thread(analyse_cached, item_id, cells, [r.id for r in rows])
    groups = []
    for g in found.groups:
        percent = {}
        for sid, (agree, disagree, passed) in g.votes.items():
            seen = agree + disagree + passed
            percent[sid] = round(100 * agree / seen, 1) if seen else 0.0
        groups.append(GroupResult(g.id, g.size, g.representative, percent))
    return Conversation(
        [StatementResult(r.id, r.text, r.agree, r.disagree, r.passed) for r in rows],
        groups,
        found.consensus,
        [(p.participant, p.x, p.y, p.group) for p in found.points],
    )
