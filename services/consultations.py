"""Consultations: load a checked file into the database, and describe them for the CLI.

A consultation expands to ordinary items (``items.consultation_id``, ``items.position``), so
results, exports, moderation and erasure treat each like any other item. Rating and clause
items are choice items (their fixed options are options, a vote is the rating or the stance)
whose optional "why" or comment is an answer on the same item.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services import results
from services.consultation_file import ConsultationPlan
from storage.consultations import ConsultationRepository
from storage.items import ItemRepository, NewItem
from storage.ledger import AuditLog
from storage.models import Consultation, Item
from storage.responses import AnswerRepository
from storage.statements import StatementRepository

#: Kinds whose items take a choice and, optionally, a text on the same item.
WITH_TEXT = ("rating", "clause")


class ConsultationConflict(Exception):
    """The consultation already has responses: replacing it would lose them."""


async def load(
    session: AsyncSession,
    plan: ConsultationPlan,
    *,
    new_version: bool,
    actor: str,
    now: datetime,
) -> Consultation:
    """Create the consultation, or replace it while no one has responded, or (``new_version``)
    keep the answered one as ``superseded`` and add the next version; recorded in the audit log
    as ``consultation.load`` by ``actor``. The caller commits."""
    repo = ConsultationRepository(session)
    current = await repo.latest(plan.slug)
    if current is None:
        consultation = await repo.add(_filled(Consultation(version=1, created_at=now), plan))
    elif not await repo.has_responses(current):
        await repo.remove_items(current)
        consultation = _filled(current, plan)
    elif new_version:
        await repo.supersede(current, now)
        fresh = Consultation(version=current.version + 1, created_at=now)
        consultation = await repo.add(_filled(fresh, plan))
    else:
        raise ConsultationConflict(
            f"{plan.source}:{plan.slug_line}: slug: {plan.slug} already has answers; "
            "load it with --new-version to start a new version (the answers stay with the old one)"
        )
    items = ItemRepository(session)
    for position, planned in enumerate(plan.items, 1):
        item = await items.create(
            NewItem(
                kind=planned.kind,
                question=planned.question,
                options=planned.options,
                created_by=actor,
                created_at=now,
                closes_at=plan.closes_at,
                consultation_id=consultation.id,
                moderation=plan.moderation,
                question_cy=planned.question_cy,
                options_cy=planned.options_cy,
            )
        )
        item.position = position
        item.clause_number = planned.clause_number
        item.clause_title = planned.clause_title
        item.clause_text = planned.clause_text
        item.regulation_title = planned.regulation_title
        item.regulation_summary = planned.regulation_summary
        item.clause_title_cy = planned.clause_title_cy
        item.clause_text_cy = planned.clause_text_cy
        item.regulation_summary_cy = planned.regulation_summary_cy
        item.profile = [q.to_json() for q in planned.profile] or None
        for text in planned.statements:  # a statements item's seeds
            await StatementRepository(session).add(item.id, text, now)
    await session.flush()
    await AuditLog(session).record(
        actor,
        "consultation.load",
        f"consultation:{plan.slug}",
        now,
        version=consultation.version,
        items=len(plan.items),
        file=plan.source,
    )
    return consultation


def _filled(consultation: Consultation, plan: ConsultationPlan) -> Consultation:
    consultation.slug = plan.slug
    consultation.title = plan.title
    consultation.introduction = plan.introduction
    consultation.privacy = plan.privacy
    consultation.title_cy = plan.title_cy
    consultation.introduction_cy = plan.introduction_cy
    consultation.privacy_cy = plan.privacy_cy
    consultation.opens_at = plan.opens_at
    consultation.closes_at = plan.closes_at
    consultation.topics = plan.topics
    consultation.moderation = plan.moderation
    consultation.source = plan.source[-500:]
    consultation.profile = [q.to_json() for q in plan.profile]
    if consultation.status is None:
        consultation.status = "draft"
    return consultation


def next_step(
    items: Sequence[Item], responded: set[int], skipped: Collection[int]
) -> tuple[int, Item] | None:
    """Where a person is: the first open item (and its place, from 1) they have neither
    responded to nor skipped; None once they have reached the end."""
    for position, item in enumerate(items, 1):
        if item.id in responded or item.id in skipped or item.status != "open":
            continue
        return position, item
    return None


def status(consultation: Consultation, now: datetime) -> str:
    """draft (loaded, not published), open, closed (also once ``closes`` has passed), superseded."""
    closes = consultation.closes_at
    if consultation.status in ("draft", "open") and closes is not None and closes <= now:
        return "closed"
    return consultation.status


def item_json(item: Item) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": item.short_id,
        "kind": item.kind,
        "position": item.position,
        "question": item.question,
        "options": [o.label for o in item.options],
    }
    if item.kind == "clause":
        out["clause"] = {
            "number": item.clause_number,
            "title": item.clause_title,
            "text": item.clause_text,
        }
    if item.kind == "rating":
        out["regulation"] = {"title": item.regulation_title, "summary": item.regulation_summary}
    if item.profile:  # "about you" questions asked just before it
        out["profile"] = list(item.profile)
    return out


async def show(session: AsyncSession, consultation: Consultation, now: datetime) -> dict[str, Any]:
    """The documented ``townhall consultation show SLUG --json`` object."""
    repo = ConsultationRepository(session)
    progress = await repo.progress(consultation)
    items = await repo.items(consultation)
    return {
        "slug": consultation.slug,
        "title": consultation.title,
        "status": status(consultation, now),
        "version": consultation.version,
        "introduction": consultation.introduction,
        "privacy": consultation.privacy,
        "opens": consultation.opens_at.isoformat() if consultation.opens_at else None,
        "closes": consultation.closes_at.isoformat() if consultation.closes_at else None,
        "topics": list(consultation.topics or []),
        "moderation": consultation.moderation,
        "participants": progress.participants,
        "completed": progress.completed,
        "items": [item_json(item) for item in items],
        # "About you" questions, when the file asks any (docs/consultations.md).
        **({"profile": list(consultation.profile)} if consultation.profile else {}),
    }


async def listing(session: AsyncSession, now: datetime) -> list[dict[str, Any]]:
    """The documented ``townhall consultation list --json`` rows, newest first."""
    repo = ConsultationRepository(session)
    out = []
    for consultation in await repo.all_latest():
        progress = await repo.progress(consultation)
        out.append(
            {
                "slug": consultation.slug,
                "title": consultation.title,
                "status": status(consultation, now),
                "closes": consultation.closes_at.isoformat() if consultation.closes_at else None,
                "items": len(await repo.items(consultation)),
                "participants": progress.participants,
                "completed": progress.completed,
            }
        )
    return out


async def item_results(
    session: AsyncSession, item: Item, *, include_hidden: bool = False
) -> results.ItemResults:
    """:func:`services.results.compute`, plus the whys and comments of rating and clause items
    as its ``answers`` (the same shape ``townhall results ID --json`` has for any item)."""
    summary = await results.compute(session, item, include_hidden=include_hidden)
    if item.kind not in WITH_TEXT:
        return summary
    statuses = results.ALL_STATUSES if include_hidden else results.PUBLIC_STATUSES
    rows = await AnswerRepository(session).for_item(item, statuses=statuses, newest_first=False)
    answers = [
        results.AnswerRow(a.text, a.platform, a.status, a.created_at.isoformat(), a.language or "")
        for a in rows
    ]
    return dataclasses.replace(summary, answers=answers)
