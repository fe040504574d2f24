"""Exports of a whole consultation: one row per response, with where in the consultation it
belongs (position, clause number, regulation title). Reuses services/exports.py row by row.

CSV: one table. JSON: ``{"consultation", "exported_at", "responses"}``. ODS: a sheet per item
kind (Scales, Clauses, Ratings, Polls, Multiple choice, Questions) and a "Summary" sheet.
Rating and clause items give two kinds of rows: the vote (``option``) and the why or comment
(``text``, ``answer``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import IO, Any

from sqlalchemy.ext.asyncio import AsyncSession

from services import breakdown, exports, results
from services.consultations import WITH_TEXT, show
from storage.exports import ExportQueries
from storage.models import Consultation, Item

COLUMNS = ["consultation", "version", "position", "clause", "regulation", *exports.COLUMNS]
SHEETS = {
    "scale": "Scales",
    "clause": "Clauses",
    "rating": "Ratings",
    "poll": "Polls",
    "multi": "Multiple choice",
    "ask": "Questions",
}
SummaryRow = tuple[str, str, str, str, str, str, str, int, float | None]


async def _splits(
    session: AsyncSession, items: Sequence[Item], by: exports.Split, include_hidden: bool
) -> list[tuple[Item, breakdown.Breakdown]]:
    question, min_cell = by
    return [
        (
            item,
            await breakdown.compute(
                session, item, question, min_cell, include_hidden=include_hidden
            ),
        )
        for item in items
    ]


def filename(consultation: Consultation, fmt: str, at: datetime) -> str:
    stamp = at.astimezone(UTC).strftime("%Y%m%d-%H%M")
    return f"townhall-{consultation.slug}-v{consultation.version}-{stamp}.{fmt}"


def _place(consultation: Consultation, item: Item) -> dict[str, Any]:
    return {
        "consultation": consultation.slug,
        "version": consultation.version,
        "position": item.position,
        "clause": item.clause_number or "",
        "regulation": item.regulation_title or "",
    }


async def batches(
    session: AsyncSession,
    consultation: Consultation,
    items: Sequence[Item],
    *,
    include_hidden: bool = False,
) -> AsyncIterator[tuple[Item, list[dict[str, Any]]]]:
    """(item, rows) in the consultation's order: votes first, then whys or comments."""
    for item in items:
        place = _place(consultation, item)
        async for batch in exports.batches(session, item, include_hidden=include_hidden):
            yield item, [{**place, **row} for row in batch]
        if item.kind in WITH_TEXT:
            async for batch in exports.answer_batches(session, item, include_hidden=include_hidden):
                yield item, [{**place, **row} for row in batch]


async def write(
    session: AsyncSession,
    consultation: Consultation,
    items: Sequence[Item],
    fmt: str,
    out: IO[bytes],
    *,
    include_hidden: bool,
    at: datetime,
    by: exports.Split | None = None,
) -> None:
    """``by``: as in services/exports.py, each item's suppressed breakdown (CSV: that table
    instead of the responses; JSON: ``"breakdowns"``; ODS: a "Breakdown" sheet)."""
    splits = [] if by is None else await _splits(session, items, by, include_hidden)
    if fmt == "csv" and by is not None:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=breakdown.COLUMNS)
        writer.writeheader()
        for item, split in splits:
            writer.writerows(split.records(item.short_id))
        out.write(buffer.getvalue().encode("utf-8"))
    elif fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
        writer.writeheader()
        async for _item, batch in batches(
            session, consultation, items, include_hidden=include_hidden
        ):
            writer.writerows(exports._csv_cells(row) for row in batch)
            out.write(buffer.getvalue().encode("utf-8"))
            buffer.seek(0)
            buffer.truncate()
        out.write(buffer.getvalue().encode("utf-8"))
    elif fmt == "json":
        responses: list[dict[str, Any]] = []
        async for _item, batch in batches(
            session, consultation, items, include_hidden=include_hidden
        ):
            responses.extend(exports._plain(row) for row in batch)
        whole = {
            "consultation": await show(session, consultation, at),
            "exported_at": at.isoformat(),
            "responses": responses,
        }
        if by is not None:
            whole["breakdowns"] = [{"item": i.short_id, **b.to_json()} for i, b in splits]
        out.write(json.dumps(whole, ensure_ascii=False, indent=2).encode("utf-8"))
    elif fmt == "ods":
        await _write_ods(session, consultation, items, out, include_hidden, splits)
    else:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(exports.FORMATS)}")


async def summary_rows(
    session: AsyncSession, item: Item, *, include_hidden: bool
) -> list[SummaryRow]:
    """exports.summary_rows with the item's place, plus the number of whys or comments."""
    head = (str(item.position or ""), item.clause_number or "", item.regulation_title or "")
    rows = await exports.summary_rows(session, item, include_hidden=include_hidden)
    out: list[SummaryRow] = [(*head, *row) for row in rows]
    if item.kind in WITH_TEXT:
        statuses = results.ALL_STATUSES if include_hidden else results.PUBLIC_STATUSES
        texts = await ExportQueries(session).answer_count(item.id, statuses)
        label = "Why (answers)" if item.kind == "rating" else "Comments (answers)"
        out.append((*head, item.short_id, item.kind, item.question, label, texts, None))
    return out


async def _write_ods(
    session: AsyncSession,
    consultation: Consultation,
    items: Sequence[Item],
    out: IO[bytes],
    include_hidden: bool,
    splits: Sequence[tuple[Item, breakdown.Breakdown]] = (),
) -> None:
    from services.consultation_ods import Workbook  # odfpy: only when an ODS is written

    book = Workbook(
        COLUMNS, [SHEETS[kind] for kind in SHEETS if any(i.kind == kind for i in items)]
    )
    async for item, batch in batches(session, consultation, items, include_hidden=include_hidden):
        book.add_rows(SHEETS[item.kind], batch)
    for item in items:
        for row in await summary_rows(session, item, include_hidden=include_hidden):
            book.add_summary(row)
    for item, split in splits:
        book.breakdown += split.records(item.short_id)
    whole = io.BytesIO()  # seekable, as in services/exports.py
    book.save(whole)
    out.write(whole.getvalue())
