"""Results of an item, computed once and shown everywhere: cards, CLI, exports."""

from __future__ import annotations

from dataclasses import dataclass, field
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
        }


async def compute(
    session: AsyncSession,
    item: Item,
    *,
    include_hidden: bool = False,
    answer_limit: int | None = None,
) -> ItemResults:
    """Counts with a fixed number of queries, whatever the number of options or votes."""
    from storage.responses import AnswerRepository, VoteRepository

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
    )
