"""The moderators' pages: the queue of answers awaiting a decision, and the audit log.

A decision made here is dispatched as a core event (a form submission of the chat's "mod"
button), so it runs exactly the handler the chat buttons run: same rules, same audit entry
(naming the dashboard account and the reason), same notice to the author.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlencode

from aiohttp import web

from bot.events import Actor
from bot.grammar import DECISIONS
from bot.inputs import parse_int
from bot.platform_names import platform_name
from dashboard.core import DASHBOARD, Staff, require
from dashboard.pages.audit_rows import group_entries
from dashboard.pages.decisions import decide_as_in_chat
from dashboard.pages.paging import govuk_pagination
from services.reasons import describe as describe_reasons
from storage.insights import InsightsRepository
from storage.moderation import ModerationRepository
from storage.people import pseudonym

PER_PAGE = 20
AUDIT_PER_PAGE = 50
DECISION_LABELS = {"approve": "Approve", "hide": "Hide", "redact": "Redact", "escalate": "Escalate"}
STATUS_TAGS = {
    "held": "govuk-tag--yellow",
    "hidden": "govuk-tag--red",
    "visible": "govuk-tag--green",
}
#: The action filter: value (a prefix of the action) and what the select shows.
ACTIONS = (
    ("answer.", "Answers: approve, hide, redact, escalate"),
    ("item.", "Items: create, close, results"),
    ("staff.", "Dashboard accounts"),
    ("user.", "Users"),
    ("export", "Exports"),
    ("privacy.", "Privacy"),
    ("participant", "Participants: consent, erasure, purge"),
    ("role.", "Chat roles"),
)
#: Subjects shown as they are: dashboard accounts, the command line and Townhall itself.
#: Anything else shaped ``platform:user_id`` is a raw chat identity and is pseudonymised.
PLAIN_PREFIXES = ("dashboard", "system", "participant", "cli")
LABEL = re.compile(r"^([a-z0-9_-]{1,20}) user ([0-9a-f]{6,12})$")


def routes() -> list[web.RouteDef]:
    return [
        web.get("/moderation", queue_page),
        web.post(r"/moderation/{answer_id:[0-9]{1,40}}", decide),
        web.get("/audit", audit_page),
    ]


def when(at: datetime) -> str:
    return f"{at.day} {at:%B %Y at %H:%M} UTC"


def page_number(request: web.Request) -> int:
    raw = request.query.get("page", "1")
    return parse_int(raw, low=1, high=999_999) or 1


def pagination(
    path: str, params: Mapping[str, str], page: int, total: int, per_page: int, label: str
) -> dict[str, object] | None:
    """Parameters for the GOV.UK pagination macro, or None when one page holds everything."""

    def href(number: int) -> str:
        return path + "?" + urlencode({**{k: v for k, v in params.items() if v}, "page": number})

    return govuk_pagination(page, total, per_page, href, label)


# -- the queue ------------------------------------------------------------------------------


@require("moderator")
async def queue_page(request: web.Request, staff: Staff) -> web.StreamResponse:
    dashboard = request.app[DASHBOARD]
    page = page_number(request)
    async with dashboard.townhall.db.transaction() as session:
        repo = ModerationRepository(session)
        total = await repo.queue_size()
        last = max(1, -(-total // PER_PAGE))
        page = min(page, last)
        rows = await repo.queue(limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    entries = [
        {
            "id": answer.id,
            "ref": f"A{answer.id}",
            "question": item.question,
            "item_href": f"/items/{item.short_id}" if staff.can("policy") else None,
            "text": answer.text,
            "status": answer.status,
            "status_class": STATUS_TAGS.get(answer.status, "govuk-tag--grey"),
            "escalated": answer.escalated,
            "reasons": describe_reasons(answer.flags),
            "reports": reports,
            "platform": platform_name(answer.platform),
            "written": when(answer.created_at),
        }
        for answer, item, reports in rows
    ]
    context: dict[str, Any] = {
        "title": "Moderation queue",
        "entries": entries,
        "total": total,
        "page": page,
        "decisions": [(d, DECISION_LABELS[d]) for d in DECISIONS],
        "pagination": pagination(
            "/moderation", {}, page, total, PER_PAGE, "Moderation queue pages"
        ),
    }
    return dashboard.render(request, "dashboard/moderation.html", context)


@require("moderator")
async def decide(request: web.Request, staff: Staff) -> web.StreamResponse:
    """Dispatch the decision as the chat's own "mod" event, then back to the queue."""
    dashboard = request.app[DASHBOARD]
    answer_id = parse_int(request.match_info["answer_id"], low=1)
    form = await request.post()
    decision = str(form.get("decision", ""))
    reason = " ".join(str(form.get("reason", "")).split())[:500]
    back = "/moderation"
    page = str(form.get("page", ""))
    if parse_int(page, low=2, high=999_999) is not None:
        back += f"?page={page}"
    if answer_id is None:
        dashboard.flash(request, "There is no such answer.", "error")
        return dashboard.redirect(request, back)
    return await decide_as_in_chat(
        request,
        dashboard,
        back,
        actor=Actor(
            user_id=staff.subject.removeprefix("dashboard:"),
            display_name=staff.email,
            platform_roles=frozenset({"moderator"}),
        ),
        action_id="mod",
        decision=decision,
        allowed=DECISIONS,
        choose="Choose Approve, Hide, Redact or Escalate.",
        answer_id=answer_id,
        reason=reason,
    )


# -- the audit log --------------------------------------------------------------------------


def subject_label(secret: str, subject: str) -> str:
    """How a subject is shown: raw chat identities (``slack:U123``) as a keyed pseudonym."""
    platform, sep, user_id = subject.partition(":")
    if not sep or not user_id or platform in PLAIN_PREFIXES:
        return subject
    return f"{platform} user {pseudonym(secret, platform, user_id)[:12]}"


async def resolve(
    repo: InsightsRepository, secret: str, field: Literal["actor", "target"], value: str
) -> str:
    """A filter as typed (maybe a pseudonymised label) -> the stored subject to match."""
    match = LABEL.match(value.strip().lower())
    if match is None:
        return value.strip()
    platform, key = match.groups()
    for stored in await repo.audit_subjects(field, platform):
        if pseudonym(secret, platform, stored.partition(":")[2]).startswith(key):
            return stored
    return value.strip()


def describe(details: Mapping[str, Any]) -> str:
    parts = []
    for key, value in details.items():
        if key == "reasons" and isinstance(value, list):
            shown = describe_reasons(map(str, value))
        elif isinstance(value, list):
            shown = ", ".join(map(str, value))
        else:
            shown = str(value)
        parts.append(f"{key}: {shown or '–'}")
    return "; ".join(parts)


@require("moderator")
async def audit_page(request: web.Request, staff: Staff) -> web.StreamResponse:
    dashboard = request.app[DASHBOARD]
    secret = dashboard.townhall.settings.secret_key.get_secret_value()
    actor = request.query.get("actor", "").strip()[:200]
    target = request.query.get("target", "").strip()[:200]
    action = request.query.get("action", "")
    if action not in dict(ACTIONS):
        action = ""
    page = page_number(request)
    async with dashboard.townhall.db.transaction() as session:
        repo = InsightsRepository(session)
        entries, total = await repo.audit(
            actor=await resolve(repo, secret, "actor", actor) if actor else None,
            action=action or None,
            target=await resolve(repo, secret, "target", target) if target else None,
            page=page,
            per_page=AUDIT_PER_PAGE,
        )
    rows = group_entries(
        entries, lambda s: subject_label(secret, s), lambda e: describe(e.details or {})
    )
    filters = {"actor": actor, "action": action, "target": target}
    context: dict[str, Any] = {
        "title": "Audit log",
        "rows": rows,
        "entries": len(entries),
        "total": total,
        "filters": filters,
        "filtered": any(filters.values()),
        "actions": ACTIONS,
        "pagination": pagination("/audit", filters, page, total, AUDIT_PER_PAGE, "Audit log pages"),
    }
    return dashboard.render(request, "dashboard/audit.html", context)
