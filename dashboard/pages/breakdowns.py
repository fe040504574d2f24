"""Breakdowns by an "about you" question on the item and consultation pages (and their
exports): which question was asked for (``?by=age``), and the suppressed tables
(services/breakdown.py; small numbers never reach a page)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from services import breakdown, profile
from storage.models import Consultation, Item
from storage.profiles import ProfileRepository

_KEY = re.compile(profile.KEY_PATTERN)


def asked_for(request: web.Request) -> str | None:
    """``?by=KEY`` when it is a well-formed question key; anything else is ignored."""
    by = request.query.get("by", "")
    return by if _KEY.match(by) else None


def split(request: web.Request, min_cell: int) -> tuple[str, int] | None:
    """What an export is asked to break down by (services/exports.py ``Split``)."""
    by = asked_for(request)
    return None if by is None else (by, min_cell)


async def context(
    session: AsyncSession,
    items: Sequence[Item],
    consultation: Consultation | None,
    by: str | None,
    min_cell: int,
) -> dict[str, Any]:
    """The page's "Break down by" choices and, when one is chosen, a table per item."""
    defined = profile.from_json(consultation.profile if consultation else None)
    for item in items:
        defined += profile.from_json(item.profile)
    keys = [q.key for q in defined]
    keys += [k for k in await ProfileRepository(session).questions() if k not in keys]
    choices = [(k, breakdown.question_for(k, defined).question) for k in keys]
    tables = []
    if by is not None:
        for item in items:
            tables.append((item, await breakdown.compute(session, item, by, min_cell)))
    return {
        "breakdown_choices": choices,
        "breakdown_by": by,
        "breakdowns": tables,
        "min_cell": min_cell,
    }
