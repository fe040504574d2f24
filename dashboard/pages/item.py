"""One item's page for the policy team: results, responses over time, answers and their themes.

Also the exports (one item or all items) as CSV, JSON or ODS. Reads and writes go through
storage repositories; every tag, untag and export is written to the audit log.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.platform_names import platform_name
from dashboard.core import DASHBOARD, Dashboard, Staff, require
from dashboard.pages import breakdowns, escalations
from dashboard.pages.item_charts import (
    bar_chart,
    choose_bucket,
    column_chart,
    embed_snippet,
    pagination,
    query_string,
)
from dashboard.pages.item_opinions import opinion_map
from dashboard.pages.items import place
from services import exports, results
from services.consultations import WITH_TEXT
from services.reasons import describe as describe_reasons
from storage.consultations import ConsultationRepository
from storage.insights import InsightsRepository
from storage.items import ItemRepository, PublicationRepository
from storage.ledger import AuditLog
from storage.models import Answer, Item, Theme
from storage.moderation import ModerationRepository
from storage.themes import ThemeRepository

PER_PAGE = 20
STATUSES = ("all", "visible", "held", "hidden")
KIND_NAMES = {
    "poll": "Poll (one choice)",
    "multi": "Poll (several choices)",
    "scale": "Scale (1 to 5)",
    "ask": "Open question",
    "rating": "Regulation to rate (Improve, Keep as is or Scrap, and why)",
    "clause": "Clause of a draft Bill (a stance and a comment)",
}
FILTER_KEYS = ("q", "platform", "status", "theme", "page")


def small_int(value: str, digits: int = 9) -> int | None:
    """A non-negative integer from a form or query value, None unless plain ASCII digits."""
    return int(value) if re.fullmatch(f"[0-9]{{1,{digits}}}", value) else None


def when(at: datetime | None) -> str:
    return f"{at.day} {at:%B %Y at %H:%M} UTC" if at else ""


@dataclass(frozen=True, slots=True)
class Filters:
    """The answers list's GET form: search text, platform, status, theme and page."""

    q: str = ""
    platform: str = ""
    status: str = "all"
    theme: int | None = None
    page: int = 1

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> Filters:
        status = query.get("status", "all")
        page = small_int(query.get("page", "1"), 6) or 1
        return cls(
            q=query.get("q", "").strip()[:200],
            platform=query.get("platform", "").strip()[:20],
            status=status if status in STATUSES else "all",
            theme=small_int(query.get("theme", "")),
            page=page,
        )

    def params(self) -> dict[str, str | int | None]:
        """Query parameters worth keeping in links (defaults left out)."""
        return {
            "q": self.q,
            "platform": self.platform,
            "status": None if self.status == "all" else self.status,
            "theme": self.theme,
            "page": None if self.page == 1 else self.page,
        }


def _dashboard(request: web.Request) -> Dashboard:
    return request.app[DASHBOARD]


def base_url(request: web.Request, dash: Dashboard) -> str:
    """Townhall's public address when configured, else the address this request came to."""
    configured = getattr(dash.townhall.settings, "public_url", None)
    return str(configured).rstrip("/") if configured else f"{request.scheme}://{request.host}"


async def _item(session: AsyncSession, request: web.Request) -> Item | None:
    return await ItemRepository(session).by_short_id(request.match_info["short_id"])


def _missing(request: web.Request) -> web.Response:
    return _dashboard(request).render(
        request,
        "dashboard/item_missing.html",
        {"title": "Page not found", "short_id": request.match_info.get("short_id", "")},
        status=404,
    )


@require("policy")
async def item_page(request: web.Request, staff: Staff) -> web.StreamResponse:
    dash = _dashboard(request)
    filters = Filters.parse(request.query)
    async with dash.townhall.db.transaction() as session:
        item = await _item(session, request)
        if item is None:
            return _missing(request)
        context = await _item_context(session, dash, item, filters)
        consultation = (
            None
            if item.consultation_id is None
            else await ConsultationRepository(session).get(item.consultation_id)
        )
        min_cell = dash.townhall.settings.min_cell
        by = breakdowns.asked_for(request)
        context.update(await breakdowns.context(session, [item], consultation, by, min_cell))
    path = f"/items/{item.short_id}"
    context.update(
        title=item.question,
        staff_can_hide=staff.can("moderator"),
        embed=embed_snippet(base_url(request, dash), item.short_id, item.question),
        chat_path=f"/c/{item.short_id}",
        path=path,
        here=query_string(filters.params()),
        paging=pagination(path, filters.params(), filters.page, context["total"], PER_PAGE),
    )
    return dash.render(request, "dashboard/item.html", context)


async def _item_context(
    session: AsyncSession, dash: Dashboard, item: Item, filters: Filters
) -> dict[str, Any]:
    summary = await results.compute(session, item, answer_limit=0)
    publications = await PublicationRepository(session).for_item(item.id)
    names = {(p.platform, p.channel_id): p.channel_name for p in publications if p.channel_name}
    places = [
        place(platform, channel_id, names.get((platform, channel_id)))
        for platform, channel_id in sorted({(p.platform, p.channel_id) for p in publications})
    ]
    insights = InsightsRepository(session)
    bucket = choose_bucket(item.created_at, dash.townhall.clock())
    timeline = column_chart(await insights.over_time(item, bucket), bucket)
    noun = "people" if item.kind == "multi" else "votes"
    chart = bar_chart([(o.label, o.votes, o.percent) for o in summary.options], noun=noun)
    context: dict[str, Any] = {
        "item": item,
        "kind_name": KIND_NAMES.get(item.kind, item.kind),
        "created": when(item.created_at),
        "deadline": when(item.closes_at),
        "closed": when(item.closed_at),
        "places": places,
        "summary": summary,
        "by_platform": sorted(
            ((platform_name(p), n) for p, n in summary.by_platform.items()), key=lambda r: r[0]
        ),
        "chart": chart,
        "timeline": timeline,
        "bucket": bucket,
        "filters": filters,
        "statuses": STATUSES,
        "total": 0,
        "answers": [],
        "escalated": [],
        "themes": [],
        "formats": exports.FORMATS,
        # Open questions' answers, and the whys and comments of a consultation's ratings and clauses
        "has_answers": item.kind in ("ask", "statements") or item.kind in WITH_TEXT,
        # Statements items (issue 20): the opinion map and the groups' agreement
        "opinions": opinion_map(summary.conversation) if summary.conversation else None,
    }
    if not context["has_answers"]:
        return context
    context["escalated"] = await escalations.for_item(session, item)
    themes = await ThemeRepository(session).for_item(item.id)
    rows, total = await insights.answers(
        item,
        q=filters.q or None,
        platform=filters.platform or None,
        status=None if filters.status == "all" else filters.status,
        theme_id=filters.theme,
        page=filters.page,
        per_page=PER_PAGE,
    )
    platforms = sorted(set(summary.by_platform) | {p.platform for p in publications})
    context.update(
        themes=themes,
        theme_names={t.id: t.name for t, _ in themes},
        platforms=[(p, platform_name(p)) for p in platforms],
        answers=[
            {
                "id": row.answer.id,
                "text": row.answer.text,
                #: Written by someone reading Welsh: marked lang="cy" for screen readers.
                "language": row.answer.language or "",
                "platform": platform_name(row.answer.platform),
                "when": when(row.answer.created_at),
                "status": row.answer.status,
                "reasons": describe_reasons(row.answer.flags) if row.answer.flags else "",
                "themes": row.themes,
                "reports": row.reports,
            }
            for row in rows
        ],
        total=total,
        first=(filters.page - 1) * PER_PAGE + 1,
    )
    return context


def _back(short_id: str, request: web.Request, answer_id: int) -> str:
    """The item page with the answers list's filters kept, scrolled to the answer."""
    kept = Filters.parse(request.query).params()
    return f"/items/{short_id}{query_string(kept)}#answer-{answer_id}"


async def _item_answer(session: AsyncSession, request: web.Request) -> tuple[Item, Answer] | None:
    """The item and its answer the URL names; None when either is not there."""
    item = await _item(session, request)
    if item is None:
        return None
    answer = await ModerationRepository(session).answer(int(request.match_info["answer_id"]))
    return (item, answer) if answer is not None and answer.item_id == item.id else None


async def audit_theme(
    session: AsyncSession,
    staff: Staff,
    action: str,
    answer_id: int,
    item: Item,
    theme: Theme,
    now: datetime,
) -> None:
    """Audit a theme put on (``answer.tag``) or taken off (``answer.untag``) an answer."""
    await AuditLog(session).record(
        staff.subject,
        action,
        f"A{answer_id}",
        now,
        item=item.short_id,
        theme=theme.name,
    )


async def chosen_theme(
    themes: ThemeRepository, item: Item, new_name: str, chosen: str, staff: Staff, now: datetime
) -> tuple[Theme | None, str | None]:
    """The theme a tagging form names (a new one is created), or what is wrong with it."""
    if new_name:
        try:
            return await themes.create(item, new_name, staff.email, now), None
        except ValueError:
            return None, "Enter a theme name of 60 characters or fewer."
    if (theme_id := small_int(chosen)) is not None:
        theme = await themes.get(theme_id)
        if theme is None or theme.item_id != item.id:
            return None, "Choose one of this question's themes."
        return theme, None
    return None, "Choose a theme or enter a new theme name."


ThemeChange = Callable[[AsyncSession, ThemeRepository, Item, Answer, datetime], Awaitable[bool]]


async def _change_themes(request: web.Request, change: ThemeChange) -> web.StreamResponse:
    """Run ``change`` on the answer the URL names, in one transaction, then go back to it.

    Not found (404) when the item or the answer is missing, or when ``change`` says so.
    """
    dash = _dashboard(request)
    now = dash.townhall.clock()
    async with dash.townhall.db.transaction() as session:
        found = await _item_answer(session, request)
        if found is None:
            return _missing(request)
        item, answer = found
        if not await change(session, ThemeRepository(session), item, answer, now):
            return _missing(request)
    return dash.redirect(request, _back(item.short_id, request, answer.id))


@require("policy")
async def tag_answer(request: web.Request, staff: Staff) -> web.StreamResponse:
    dash = _dashboard(request)
    form = await request.post()
    new_name = str(form.get("new_theme", "")).strip()
    chosen = str(form.get("theme_id", ""))

    async def tag(
        session: AsyncSession, themes: ThemeRepository, item: Item, answer: Answer, now: datetime
    ) -> bool:
        theme, problem = await chosen_theme(themes, item, new_name, chosen, staff, now)
        if theme is None or problem is not None:
            dash.flash(request, problem or "", "error")
            return True
        added = await themes.tag(answer.id, theme.id, staff.email, now)
        if added:
            await audit_theme(session, staff, "answer.tag", answer.id, item, theme, now)
        text = f"Answer A{answer.id} is tagged “{theme.name}”."
        dash.flash(request, text if added else f"Answer A{answer.id} already had that theme.")
        return True

    return await _change_themes(request, tag)


@require("policy")
async def untag_answer(request: web.Request, staff: Staff) -> web.StreamResponse:
    dash = _dashboard(request)

    async def untag(
        session: AsyncSession, themes: ThemeRepository, item: Item, answer: Answer, now: datetime
    ) -> bool:
        theme = await themes.get(int(request.match_info["theme_id"]))
        if theme is None or theme.item_id != item.id:
            return False
        if await themes.untag(answer.id, theme.id):
            await audit_theme(session, staff, "answer.untag", answer.id, item, theme, now)
            dash.flash(request, f"Removed the theme “{theme.name}” from answer A{answer.id}.")
        return True

    return await _change_themes(request, untag)


def include_hidden(request: web.Request) -> bool:
    """Whether an export asks for held and hidden answers too (moderators only)."""
    return request.query.get("include_hidden", "") in ("1", "true", "yes")


def hidden_refused(request: web.Request) -> web.Response:
    return _dashboard(request).render(
        request,
        "dashboard/item_forbidden.html",
        {"title": "You cannot export held or hidden answers"},
        status=403,
    )


def download(body: bytes, fmt: str, name: str) -> web.Response:
    """An export as a file to save, never shown in the browser."""
    return web.Response(
        body=body,
        headers={
            "Content-Type": exports.CONTENT_TYPES[fmt],
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


async def _export(request: web.Request, staff: Staff, short_id: str | None) -> web.StreamResponse:
    dash = _dashboard(request)
    fmt = request.match_info["fmt"]
    hidden_too = include_hidden(request)
    if hidden_too and not staff.can("moderator"):
        return hidden_refused(request)
    now = dash.townhall.clock()
    async with dash.townhall.db.transaction() as session:
        if short_id is None:
            items = list(await ItemRepository(session).all_oldest_first())
            item = None
        else:
            item = await _item(session, request)
            if item is None:
                return _missing(request)
            items = [item]
        body = await exports.build(
            session,
            items,
            fmt,
            include_hidden=hidden_too,
            many=short_id is None,
            by=breakdowns.split(request, dash.townhall.settings.min_cell),
        )
        await AuditLog(session).record(
            staff.subject,
            "export",
            item.short_id if item is not None else "all",
            now,
            format=fmt,
            include_hidden=hidden_too,
            items=len(items),
        )
    return download(body, fmt, exports.filename(item, fmt, now))


@require("policy", "moderator")
async def export_item(request: web.Request, staff: Staff) -> web.StreamResponse:
    return await _export(request, staff, request.match_info["short_id"])


@require("policy", "moderator")
async def export_all(request: web.Request, staff: Staff) -> web.StreamResponse:
    return await _export(request, staff, None)


def routes() -> list[web.RouteDef]:
    fmt = "{fmt:csv|json|ods}"
    answer = "/items/{short_id}/answers/{answer_id:[0-9]{1,18}}/themes"
    return [
        web.get("/items/{short_id}", item_page),
        web.post(answer, tag_answer),
        web.post(answer + "/{theme_id:[0-9]{1,9}}/remove", untag_answer),
        web.get("/items/{short_id}/export." + fmt, export_item),
        web.get("/export." + fmt, export_all),
    ]
