"""An item's results broken down by an "about you" question, suppressed for publication.

One function builds it (:func:`compute`) and one shape carries it (:class:`Breakdown`): the
dashboard, ``townhall results ID --json --by Q`` and every export format show exactly this,
so small-number suppression (services/suppression.py) is applied once, here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from services import profile, suppression
from services.results import ALL_STATUSES, PUBLIC_STATUSES

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from storage.models import Item

TOTAL = "Total"
ANSWERS = "Answers"


@dataclass(frozen=True, slots=True)
class Breakdown:
    by: str
    question: str
    columns: list[str]  # the item's options (or "Answers"), then "Total"
    values: list[str]  # the groups, then "Not stated"
    table: suppression.Protected
    min_cell: int

    def shown(self, i: int, j: int) -> str:
        """A cell as text: its count, "fewer than N", or "withheld"."""
        value = self.table.cells[i][j]
        if value is not None:
            return str(value)
        return f"fewer than {self.min_cell}" if (i, j) in self.table.fewer else "withheld"

    def to_json(self) -> dict[str, Any]:
        """``"breakdown"`` of ``results ID --json --by Q``: a count is null where withheld,
        listed in ``suppressed`` (and in ``fewer_than_min`` when below the minimum)."""
        rows = []
        for i, value in enumerate(self.values):
            cells = self.table.cells[i]
            rows.append(
                {
                    "value": value,
                    "counts": {c: cells[j] for j, c in enumerate(self.columns[:-1])},
                    "total": cells[-1],
                    "suppressed": [c for j, c in enumerate(self.columns) if cells[j] is None],
                    "fewer_than_min": [
                        c for j, c in enumerate(self.columns) if (i, j) in self.table.fewer
                    ],
                }
            )
        return {
            "by": self.by,
            "question": self.question,
            "min_cell": self.min_cell,
            "rows": rows,
            "column_totals": dict(zip(self.columns[:-1], self.table.column_totals, strict=True)),
            "total": self.table.total,
        }

    def records(self, item: str) -> list[dict[str, Any]]:
        """One row per group and column (its count, "fewer than N" or "withheld"), then the
        public column totals (group "All"): the CSV and ODS exports' breakdown rows."""
        out = [
            {
                "item": item,
                "by": self.by,
                "group": value,
                "option": column,
                "count": self.shown(i, j),
            }
            for i, value in enumerate(self.values)
            for j, column in enumerate(self.columns)
        ]
        totals = [*self.table.column_totals, self.table.total]
        out += [
            {"item": item, "by": self.by, "group": "All", "option": column, "count": str(n)}
            for column, n in zip(self.columns, totals, strict=True)
        ]
        return out


#: The columns of :meth:`Breakdown.records`.
COLUMNS = ["item", "by", "group", "option", "count"]


def question_for(key: str, defined: list[profile.ProfileQuestion]) -> profile.ProfileQuestion:
    """The question called ``key``: the consultation's own, a built-in, or one known only by
    the answers people gave (its groups are then the values found)."""
    for question in defined:
        if question.key == key:
            return question
    return profile.BUILT_IN.get(key, profile.ProfileQuestion(key, key, ()))


async def compute(
    session: AsyncSession,
    item: Item,
    by: str,
    min_cell: int,
    *,
    include_hidden: bool = False,
) -> Breakdown:
    """Votes per option (an open question: answers) in each group of ``by``, suppressed."""
    from storage.consultations import ConsultationRepository
    from storage.profiles import ProfileRepository

    defined: list[profile.ProfileQuestion] = []
    if item.consultation_id is not None:
        consultation = await ConsultationRepository(session).get(item.consultation_id)
        defined = profile.from_json(consultation.profile if consultation else None)
    defined += profile.from_json(item.profile)
    question = question_for(by, defined)
    repo = ProfileRepository(session)
    counts: dict[tuple[str | None, int], int]
    if item.is_choice:
        counts = await repo.vote_counts(item, by)
        columns = [o.label for o in item.options]
        positions = [o.position for o in item.options]
    else:
        statuses = ALL_STATUSES if include_hidden else PUBLIC_STATUSES
        answers = await repo.answer_counts(item, by, statuses)
        counts = {(value, 1): n for value, n in answers.items()}
        columns, positions = [ANSWERS], [1]
    found = {value for value, _ in counts if value is not None}
    values = [*question.options, *sorted(found - set(question.options))]
    table = [[counts.get((value, p), 0) for p in positions] for value in values]
    table.append([counts.get((None, p), 0) for p in positions])
    return Breakdown(
        by,
        question.question,
        [*columns, TOTAL],
        [*values, profile.NOT_STATED],
        suppression.protect(table, min_cell),
        min_cell,
    )
