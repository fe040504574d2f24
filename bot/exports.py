"""Exports of an item's responses: CSV and JSON, pseudonymous ids only."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers import results
from storage.models import Answer, Item, Option, Participant, Vote

PSEUDONYM_CHARS = 16
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
]


async def rows(
    session: AsyncSession, item: Item, *, include_hidden: bool = False
) -> list[dict[str, Any]]:
    base = {"item": item.short_id, "kind": item.kind, "question": item.question}
    out: list[dict[str, Any]] = []
    if item.is_choice:
        query = (
            select(Vote.platform, Vote.created_at, Option.label, Participant.pseudonym)
            .join(Option, Option.id == Vote.option_id)
            .join(Participant, Participant.id == Vote.participant_id)
            .where(Vote.item_id == item.id)
            .order_by(Vote.created_at, Vote.id)
        )
        for platform, created, label, who in (await session.execute(query)).all():
            out.append(
                {
                    **base,
                    "participant": who[:PSEUDONYM_CHARS],
                    "platform": platform,
                    "created_at": created.isoformat(),
                    "option": label,
                    "text": "",
                    "status": "visible",
                }
            )
        return out
    statuses = results.ALL_STATUSES if include_hidden else results.PUBLIC_STATUSES
    answers = (
        select(
            Answer.platform, Answer.created_at, Answer.text, Answer.status, Participant.pseudonym
        )
        .join(Participant, Participant.id == Answer.participant_id)
        .where(Answer.item_id == item.id, Answer.status.in_(statuses))
        .order_by(Answer.created_at, Answer.id)
    )
    for platform, created, text, status, who in (await session.execute(answers)).all():
        out.append(
            {
                **base,
                "participant": who[:PSEUDONYM_CHARS],
                "platform": platform,
                "created_at": created.isoformat(),
                "option": "",
                "text": text,
                "status": status,
            }
        )
    return out


def to_csv(records: list[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    for record in records:
        writer.writerow({k: _safe_cell(v) for k, v in record.items()})
    yield buffer.getvalue()


def _safe_cell(value: Any) -> Any:
    """Neutralise spreadsheet formulas in citizens' text (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
