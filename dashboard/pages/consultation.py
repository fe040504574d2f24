"""One consultation's page (``/consultations/SLUG``) and its exports.

The page shows how far people got (started, each item, completed, and where they dropped off),
the clauses that drew most comments and most "Needs changes"/"Disagree" stances, and the
regulations' Improve / Keep as is / Scrap ratings; each item links to its own page, which has
the answers with the search, tag and moderate tools. Every chart has a table of its figures.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from dashboard.core import DASHBOARD, Staff, require
from dashboard.pages import breakdowns
from dashboard.pages.item import download, hidden_refused, include_hidden
from dashboard.pages.item_charts import bar_chart
from services import consultation_exports, consultations, exports
from storage.consultation_insights import ConsultationInsights, Funnel
from storage.consultations import ConsultationRepository
from storage.ledger import AuditLog
from storage.models import Consultation, Item

KIND_NAMES = {
    "poll": "Poll",
    "multi": "Poll (several choices)",
    "scale": "Scale",
    "ask": "Open question",
    "rating": "Regulation to rate",
    "clause": "Clause",
}
STATUS_NAMES = {
    "draft": "Draft",
    "open": "Open",
    "closed": "Closed",
    "superseded": "Superseded",
}
#: A clause's stances that ask for change.
CRITICAL = frozenset({"needs changes", "disagree"})


def when(at: datetime | None) -> str:
    return f"{at.day} {at:%B %Y at %H:%M} UTC" if at else ""


def share(part: int, whole: int) -> float:
    """``part`` out of ``whole`` in percent, one decimal place; 0 when ``whole`` is 0."""
    return round(100 * part / whole, 1) if whole else 0.0


@dataclass(frozen=True, slots=True)
class Step:
    """One item in the funnel: how many took part, their share of those who started, and how
    many fewer than at the item before (negative: more)."""

    item: Item
    people: int
    percent: float
    dropped: int


@dataclass(frozen=True, slots=True)
class ClauseRow:
    item: Item
    votes: int
    critical: int  # "Needs changes" and "Disagree"
    percent: float  # critical share of the votes
    comments: int


@dataclass(frozen=True, slots=True)
class Rating:
    label: str
    votes: int
    percent: float


@dataclass(frozen=True, slots=True)
class RegulationRow:
    item: Item
    votes: int
    ratings: list[Rating]
    whys: int


def funnel_steps(items: list[Item], funnel: Funnel) -> list[Step]:
    steps, before = [], funnel.started
    for item in items:
        people = funnel.per_item.get(item.id, 0)
        steps.append(Step(item, people, share(people, funnel.started), before - people))
        before = people
    return steps


Tallies = dict[int, dict[int, int]]


def _of_kind(items: list[Item], kind: str, votes: Tallies) -> Iterator[tuple[Item, dict[int, int]]]:
    """The items of ``kind`` with their votes per option position."""
    return ((item, votes.get(item.id, {})) for item in items if item.kind == kind)


def clause_rows(items: list[Item], votes: Tallies, texts: dict[int, int]) -> list[ClauseRow]:
    rows = []
    for item, counts in _of_kind(items, "clause", votes):
        total = sum(counts.values())
        critical = sum(
            counts.get(o.position, 0) for o in item.options if o.label.casefold() in CRITICAL
        )
        rows.append(ClauseRow(item, total, critical, share(critical, total), texts.get(item.id, 0)))
    return rows


def regulation_rows(
    items: list[Item], votes: Tallies, texts: dict[int, int]
) -> list[RegulationRow]:
    rows = []
    for item, counts in _of_kind(items, "rating", votes):
        total = sum(counts.values())
        ratings = [
            Rating(o.label, counts.get(o.position, 0), share(counts.get(o.position, 0), total))
            for o in item.options
        ]
        rows.append(RegulationRow(item, total, ratings, texts.get(item.id, 0)))
    return rows


async def page_context(
    session: AsyncSession, consultation: Consultation, now: datetime
) -> dict[str, Any]:
    """Everything the consultation page shows, from a handful of grouped queries."""
    items = list(await ConsultationRepository(session).items(consultation))
    insights = ConsultationInsights(session)
    funnel = await insights.funnel(consultation, len(items))
    ids = [i.id for i in items]
    votes = await insights.option_votes(ids)
    texts = await insights.texts(ids)
    steps = funnel_steps(items, funnel)
    clauses = clause_rows(items, votes, texts)
    bars = [("Started", funnel.started, 100.0 if funnel.started else 0.0)]
    bars += [(f"{s.item.position}. {s.item.question}", s.people, s.percent) for s in steps]
    bars.append(("Completed", funnel.completed, share(funnel.completed, funnel.started)))
    return {
        "consultation": consultation,
        "status": consultations.status(consultation, now),
        "status_names": STATUS_NAMES,
        "opens": when(consultation.opens_at),
        "closes": when(consultation.closes_at),
        "items": items,
        "kind_names": KIND_NAMES,
        "funnel": funnel,
        "completed_percent": share(funnel.completed, funnel.started),
        "steps": steps,
        "funnel_chart": bar_chart(bars, noun="people"),
        "by_comments": sorted(clauses, key=lambda r: (-r.comments, r.item.position or 0)),
        "by_critical": sorted(
            clauses, key=lambda r: (-r.percent, -r.critical, r.item.position or 0)
        ),
        "regulations": regulation_rows(items, votes, texts),
        "texts": texts,
        "formats": exports.FORMATS,
        "answers_exported": True,
    }


def _missing(request: web.Request, slug: str) -> web.Response:
    return request.app[DASHBOARD].error(
        request,
        404,
        "Page not found",
        f"There is no consultation called “{slug[:100]}”. Check the address, or find it in the "
        "list of consultations.",
    )


@require("policy")
async def consultation_page(request: web.Request, staff: Staff) -> web.StreamResponse:
    dash = request.app[DASHBOARD]
    slug = request.match_info["slug"]
    now = dash.townhall.clock()
    async with dash.townhall.db.transaction() as session:
        consultation = await ConsultationRepository(session).latest(slug)
        if consultation is None:
            return _missing(request, slug)
        context = await page_context(session, consultation, now)
        context.update(
            await breakdowns.context(
                session,
                [i for i in context["items"] if i.is_choice],
                consultation,
                breakdowns.asked_for(request),
                dash.townhall.settings.min_cell,
            )
        )
    path = f"/consultations/{consultation.slug}"
    context.update(
        title=consultation.title,
        slug=consultation.slug,
        path=path,
        staff_can_hide=staff.can("moderator"),
    )
    return dash.render(request, "dashboard/consultation.html", context)


@require("policy", "moderator")
async def export_consultation(request: web.Request, staff: Staff) -> web.StreamResponse:
    """The CLI's ``townhall export SLUG`` as a download; audited like every export."""
    dash = request.app[DASHBOARD]
    slug, fmt = request.match_info["slug"], request.match_info["fmt"]
    hidden_too = include_hidden(request)
    if hidden_too and not staff.can("moderator"):
        return hidden_refused(request)
    now = dash.townhall.clock()
    body = io.BytesIO()
    async with dash.townhall.db.transaction() as session:
        repo = ConsultationRepository(session)
        consultation = await repo.latest(slug)
        if consultation is None:
            return _missing(request, slug)
        items = await repo.items(consultation)
        await consultation_exports.write(
            session,
            consultation,
            items,
            fmt,
            body,
            include_hidden=hidden_too,
            at=now,
            by=breakdowns.split(request, dash.townhall.settings.min_cell),
        )
        await AuditLog(session).record(
            staff.subject,
            "export",
            f"consultation:{consultation.slug}",
            now,
            format=fmt,
            include_hidden=hidden_too,
            items=len(items),
            version=consultation.version,
        )
    return download(body.getvalue(), fmt, consultation_exports.filename(consultation, fmt, now))


SLUG = "{slug:[a-z0-9]+(?:-[a-z0-9]+)*}"


def routes() -> list[web.RouteDef]:
    return [
        web.get(f"/consultations/{SLUG}", consultation_page),
        web.get(f"/consultations/{SLUG}/export.{{fmt:csv|json|ods}}", export_consultation),
    ]
