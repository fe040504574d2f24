"""Exports of responses as CSV, JSON or ODS: pseudonymous ids only, rows streamed in batches.

Used by ``townhall export`` and the dashboard. Held and hidden answers are left out unless
``include_hidden``; participants appear only as the first 16 characters of their pseudonym.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from sqlalchemy.ext.asyncio import AsyncSession

from services import breakdown, results
from storage.exports import ExportQueries
from storage.models import Item

PSEUDONYM_CHARS = 16
BATCH = 2000
FORMATS = ("csv", "json", "ods")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
}
#: The original nine columns first (other tools rely on them), then ``answer`` and ``themes``,
#: then ``language``: the language an answer was written in (``cy``/``en``; empty for votes and
#: for answers from before it was recorded). Every language counts in the one tally.
COLUMNS = [
    "item",
    "kind",
    "question",
    "participant",
    "platform",
    "created_at",
    "option",
    "text",
    "status",
    "answer",
    "themes",
    "language",
]
Progress = Callable[[int], None]
#: A breakdown asked of an export: the "about you" question and TOWNHALL_MIN_CELL.
Split = tuple[str, int]


def filename(item: Item | None, fmt: str, at: datetime) -> str:
    """``townhall-<id or all>-YYYYMMDD-HHMM.<fmt>`` (UTC)."""
    stamp = at.astimezone(UTC).strftime("%Y%m%d-%H%M")
    return f"townhall-{item.short_id if item is not None else 'all'}-{stamp}.{fmt}"


def _statuses(include_hidden: bool) -> tuple[str, ...]:
    return results.ALL_STATUSES if include_hidden else results.PUBLIC_STATUSES


async def count(session: AsyncSession, items: Sequence[Item], *, include_hidden: bool) -> int:
    """How many rows an export of ``items`` has (votes plus answers shown)."""
    choice = [i.id for i in items if i.is_choice]
    asks = [i.id for i in items if not i.is_choice]
    return await ExportQueries(session).count_rows(choice, asks, _statuses(include_hidden))


async def batches(
    session: AsyncSession, item: Item, *, include_hidden: bool = False, size: int | None = None
) -> AsyncIterator[list[dict[str, Any]]]:
    """The item's rows, oldest first, ``size`` at a time from one streamed query.

    ``created_at`` stays a datetime here; CSV and JSON write it as ISO 8601 text.
    """
    size = size or BATCH
    if not item.is_choice:
        async for batch in answer_batches(session, item, include_hidden=include_hidden, size=size):
            yield batch
        return
    base = {"item": item.short_id, "kind": item.kind, "question": item.question}
    async for rows in ExportQueries(session).votes(item.id, size):
        yield [
            {
                **base,
                "participant": who[:PSEUDONYM_CHARS],
                "platform": platform,
                "created_at": created,
                "option": label,
                "text": "",
                "status": "visible",
                "answer": "",
                "themes": [],
                "language": "",
            }
            for platform, created, label, who in rows
        ]


async def answer_batches(
    session: AsyncSession, item: Item, *, include_hidden: bool = False, size: int | None = None
) -> AsyncIterator[list[dict[str, Any]]]:
    """The item's written answers as rows (an open question's, or a rating's whys)."""
    base = {"item": item.short_id, "kind": item.kind, "question": item.question}
    queries = ExportQueries(session)
    themes = await queries.answer_themes(item.id)  # tags are few: read before streaming
    async for rows in queries.answers(item.id, _statuses(include_hidden), size or BATCH):
        yield [
            {
                **base,
                "participant": who[:PSEUDONYM_CHARS],
                "platform": platform,
                "created_at": created,
                "option": "",
                "text": text,
                "status": status,
                "answer": f"A{answer_id}",
                "themes": themes.get(answer_id, []),
                "language": language or "",
            }
            for answer_id, platform, created, text, status, who, language in rows
        ]


async def rows(
    session: AsyncSession, item: Item, *, include_hidden: bool = False
) -> list[dict[str, Any]]:
    """Every row of one item as JSON-ready dicts (small items; exports stream instead)."""
    out: list[dict[str, Any]] = []
    async for batch in batches(session, item, include_hidden=include_hidden):
        out.extend(_plain(record) for record in batch)
    return out


def _plain(record: dict[str, Any]) -> dict[str, Any]:
    created = record["created_at"]
    return (
        {**record, "created_at": created.isoformat()} if isinstance(created, datetime) else record
    )


def _csv_cells(record: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in _plain(record).items():
        if isinstance(value, list):
            value = "; ".join(value)
        out[key] = _safe_cell(value)
    return out


def to_csv(records: list[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    for record in records:
        writer.writerow(_csv_cells(record))
    yield buffer.getvalue()


def _safe_cell(value: Any) -> Any:
    """Neutralise spreadsheet formulas in citizens' text (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


async def build(
    session: AsyncSession,
    items: Sequence[Item],
    fmt: str,
    *,
    include_hidden: bool,
    progress: Progress | None = None,
    many: bool | None = None,
    at: datetime | None = None,
    by: Split | None = None,
) -> bytes:
    """The whole export as bytes; see :func:`write`."""
    out = io.BytesIO()
    await write(
        session,
        items,
        fmt,
        out,
        include_hidden=include_hidden,
        progress=progress,
        many=many,
        at=at,
        by=by,
    )
    return out.getvalue()


async def write(
    session: AsyncSession,
    items: Sequence[Item],
    fmt: str,
    out: IO[bytes],
    *,
    include_hidden: bool,
    progress: Progress | None = None,
    many: bool | None = None,
    at: datetime | None = None,
    by: Split | None = None,
) -> None:
    """Write the export of ``items`` to ``out``, calling ``progress(rows)`` after each batch.

    JSON is ``{"item", "responses"}`` for one item and ``{"exported_at", "items": [...]}`` when
    ``many`` (default: unless exactly one item is given). CSV is one table for any number.
    ``by`` (an "about you" question and the minimum cell): each item's results broken down by
    it, suppressed (services/breakdown.py): the CSV is that table instead of the responses,
    JSON adds ``"breakdown"`` to each item, ODS a "Breakdown" sheet.
    """
    many = len(items) != 1 if many is None else many
    job = _Job(session, items, out, include_hidden, progress or (lambda _n: None), by)
    if fmt == "csv" and by is not None:
        await _write_breakdown_csv(job)
    elif fmt == "csv":
        await _write_csv(job)
    elif fmt == "json":
        await _write_json(job, many, (at or datetime.now(UTC)).isoformat())
    elif fmt == "ods":
        await _write_ods(job)
    else:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")


@dataclass(frozen=True, slots=True)
class _Job:
    """One export being written: what from, which items, where to, and whom to tell."""

    session: AsyncSession
    items: Sequence[Item]
    out: IO[bytes]
    include_hidden: bool
    progress: Progress
    by: Split | None = None

    async def breakdown(self, item: Item) -> breakdown.Breakdown | None:
        if self.by is None:
            return None
        question, min_cell = self.by
        return await breakdown.compute(
            self.session, item, question, min_cell, include_hidden=self.include_hidden
        )

    async def batches(self, item: Item) -> AsyncIterator[list[dict[str, Any]]]:
        """The item's rows, reporting each batch to ``progress`` once it has been used."""
        async for batch in batches(self.session, item, include_hidden=self.include_hidden):
            yield batch
            self.progress(len(batch))


async def _write_csv(job: _Job) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    for item in job.items:
        async for batch in job.batches(item):
            writer.writerows(_csv_cells(record) for record in batch)
            job.out.write(buffer.getvalue().encode("utf-8"))
            buffer.seek(0)
            buffer.truncate()
    job.out.write(buffer.getvalue().encode("utf-8"))


async def _write_breakdown_csv(job: _Job) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=breakdown.COLUMNS)
    writer.writeheader()
    for item in job.items:
        split = await job.breakdown(item)
        assert split is not None
        writer.writerows(
            {k: _safe_cell(v) for k, v in row.items()} for row in split.records(item.short_id)
        )
    job.out.write(buffer.getvalue().encode("utf-8"))


def _dump(value: Any, level: int) -> str:
    """``json.dumps(indent=2)`` of ``value`` as it appears nested ``level`` deep."""
    return json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n" + "  " * level)


async def _write_item_json(job: _Job, item: Item, level: int) -> None:
    """``{"item": summary, "responses": [...]}`` exactly as ``json.dumps(indent=2)`` lays it out."""
    pad = "  " * level
    out = job.out
    summary = await results.compute(job.session, item, include_hidden=job.include_hidden)
    out.write(f'{{\n{pad}  "item": {_dump(summary.to_json(), level + 1)},\n'.encode())
    split = await job.breakdown(item)
    if split is not None:
        out.write(f'{pad}  "breakdown": {_dump(split.to_json(), level + 1)},\n'.encode())
    out.write(f'{pad}  "responses": ['.encode())
    first = True
    async for batch in job.batches(item):
        chunk = [
            ("\n" if first and i == 0 else ",\n") + f"{pad}    " + _dump(_plain(r), level + 2)
            for i, r in enumerate(batch)
        ]
        first = first and not batch
        out.write("".join(chunk).encode("utf-8"))
    out.write((f"]\n{pad}}}" if first else f"\n{pad}  ]\n{pad}}}").encode())


async def _write_json(job: _Job, many: bool, exported_at: str) -> None:
    if not many:
        (item,) = job.items
        await _write_item_json(job, item, 0)
        return
    job.out.write(f'{{\n  "exported_at": {json.dumps(exported_at)},\n  "items": ['.encode())
    for index, item in enumerate(job.items):
        job.out.write(b"\n    " if index == 0 else b",\n    ")
        await _write_item_json(job, item, 2)
    job.out.write(b"\n  ]\n}" if job.items else b"]\n}")


async def _write_ods(job: _Job) -> None:
    from services.exports_ods import Spreadsheet  # odfpy: only when an ODS is written

    sheet = Spreadsheet(COLUMNS)
    for item in job.items:
        async for batch in job.batches(item):
            sheet.add_rows(batch)
        for row in await summary_rows(job.session, item, include_hidden=job.include_hidden):
            sheet.add_summary(row)
        split = await job.breakdown(item)
        if split is not None:
            sheet.breakdown += split.records(item.short_id)
    whole = io.BytesIO()  # seekable: no data descriptors, "mimetype" at byte 38 as ODF wants
    sheet.save(whole)
    job.out.write(whole.getvalue())


async def summary_rows(
    session: AsyncSession, item: Item, *, include_hidden: bool
) -> list[tuple[str, str, str, str, int, float | None]]:
    """(item, kind, question, option, count, share) rows: one per option of a choice item;
    for an open question, all answers shown and then one row per theme ("Theme: name")."""
    head = (item.short_id, item.kind, item.question)
    if item.is_choice:
        summary = await results.compute(session, item, include_hidden=include_hidden)
        return [(*head, o.label, o.votes, round(o.percent / 100, 4)) for o in summary.options]
    statuses = _statuses(include_hidden)
    queries = ExportQueries(session)
    total = await queries.answer_count(item.id, statuses)
    themes = await queries.theme_counts(item.id, statuses)
    out: list[tuple[str, str, str, str, int, float | None]] = [(*head, "", total, None)]
    for name, n in themes:
        out.append((*head, f"Theme: {name}", n, round(n / total, 4) if total else 0.0))
    return out
