"""Exports of responses as CSV, JSON or ODS: pseudonymous ids only, rows streamed in batches.

Used by ``townhall export`` and the dashboard. Held and hidden answers are left out unless
``include_hidden``; participants appear only as the first 16 characters of their pseudonym.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import IO, Any

from sqlalchemy.ext.asyncio import AsyncSession

from services import results
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
#: The original nine columns first (other tools rely on them), then ``answer`` and ``themes``.
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
]
Progress = Callable[[int], None]


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
    base = {"item": item.short_id, "kind": item.kind, "question": item.question}
    queries = ExportQueries(session)
    if item.is_choice:
        async for rows in queries.votes(item.id, size):
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
                }
                for platform, created, label, who in rows
            ]
        return
    themes = await queries.answer_themes(item.id)  # tags are few: read before streaming
    async for rows in queries.answers(item.id, _statuses(include_hidden), size):
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
            }
            for answer_id, platform, created, text, status, who in rows
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
) -> bytes:
    """The whole export as bytes; see :func:`write`."""
    out = io.BytesIO()
    await write(
        session, items, fmt, out, include_hidden=include_hidden, progress=progress, many=many, at=at
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
) -> None:
    """Write the export of ``items`` to ``out``, calling ``progress(rows)`` after each batch.

    JSON is ``{"item", "responses"}`` for one item and ``{"exported_at", "items": [...]}`` when
    ``many`` (default: unless exactly one item is given). CSV is one table for any number.
    """
    many = len(items) != 1 if many is None else many
    report = progress or (lambda _n: None)
    if fmt == "csv":
        await _write_csv(session, items, out, include_hidden, report)
    elif fmt == "json":
        exported_at = (at or datetime.now(UTC)).isoformat()
        await _write_json(session, items, out, include_hidden, report, many, exported_at)
    elif fmt == "ods":
        await _write_ods(session, items, out, include_hidden, report)
    else:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")


async def _write_csv(
    session: AsyncSession,
    items: Sequence[Item],
    out: IO[bytes],
    include_hidden: bool,
    progress: Progress,
) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    for item in items:
        async for batch in batches(session, item, include_hidden=include_hidden):
            writer.writerows(_csv_cells(record) for record in batch)
            out.write(buffer.getvalue().encode("utf-8"))
            buffer.seek(0)
            buffer.truncate()
            progress(len(batch))
    out.write(buffer.getvalue().encode("utf-8"))


def _dump(value: Any, level: int) -> str:
    """``json.dumps(indent=2)`` of ``value`` as it appears nested ``level`` deep."""
    return json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n" + "  " * level)


async def _write_item_json(
    session: AsyncSession,
    item: Item,
    out: IO[bytes],
    include_hidden: bool,
    progress: Progress,
    level: int,
) -> None:
    """``{"item": summary, "responses": [...]}`` exactly as ``json.dumps(indent=2)`` lays it out."""
    pad = "  " * level
    summary = await results.compute(session, item, include_hidden=include_hidden)
    out.write(f'{{\n{pad}  "item": {_dump(summary.to_json(), level + 1)},\n'.encode())
    out.write(f'{pad}  "responses": ['.encode())
    first = True
    async for batch in batches(session, item, include_hidden=include_hidden):
        chunk = [
            ("\n" if first and i == 0 else ",\n") + f"{pad}    " + _dump(_plain(r), level + 2)
            for i, r in enumerate(batch)
        ]
        first = first and not batch
        out.write("".join(chunk).encode("utf-8"))
        progress(len(batch))
    out.write((f"]\n{pad}}}" if first else f"\n{pad}  ]\n{pad}}}").encode())


async def _write_json(
    session: AsyncSession,
    items: Sequence[Item],
    out: IO[bytes],
    include_hidden: bool,
    progress: Progress,
    many: bool,
    exported_at: str,
) -> None:
    if not many:
        (item,) = items
        await _write_item_json(session, item, out, include_hidden, progress, 0)
        return
    out.write(f'{{\n  "exported_at": {json.dumps(exported_at)},\n  "items": ['.encode())
    for index, item in enumerate(items):
        out.write(b"\n    " if index == 0 else b",\n    ")
        await _write_item_json(session, item, out, include_hidden, progress, 2)
    out.write(b"\n  ]\n}" if items else b"]\n}")


async def _write_ods(
    session: AsyncSession,
    items: Sequence[Item],
    out: IO[bytes],
    include_hidden: bool,
    progress: Progress,
) -> None:
    from services.exports_ods import Spreadsheet  # odfpy: only when an ODS is written

    sheet = Spreadsheet(COLUMNS)
    for item in items:
        async for batch in batches(session, item, include_hidden=include_hidden):
            sheet.add_rows(batch)
            progress(len(batch))
        for row in await summary_rows(session, item, include_hidden=include_hidden):
            sheet.add_summary(row)
    whole = io.BytesIO()  # seekable: no data descriptors, "mimetype" at byte 38 as ODF wants
    sheet.save(whole)
    out.write(whole.getvalue())


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
