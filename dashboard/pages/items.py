"""The items overview (``/items``) and the form that creates and publishes one (``/items/new``).

Publishing goes through the same command handlers as chat: the form becomes a parsed command
(no quoting) dispatched as the signed-in officer, so validation, audit and delivery are the
chat's; the handler's typed result names the new item.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot.errors import UserError
from bot.events import Actor, Event, EventKind, Target
from bot.grammar import ParsedCommand, plain_quotes
from bot.outcomes import ItemCreated
from bot.platform_names import PLATFORM_NAMES as PLATFORMS
from bot.platform_names import platform_name
from bot.timeparse import parse_deadline
from dashboard.core import DASHBOARD, Staff, require
from services.limits import MAX_OPTIONS, MAX_QUESTION, MAX_SEEDS, MAX_STATEMENT, MIN_OPTIONS
from storage.insights import InsightsRepository

PER_PAGE = 25
KINDS = {
    "poll": "Poll (one choice)",
    "multi": "Poll (several choices)",
    "scale": "Scale (agree to disagree)",
    "ask": "Open question",
    "statements": "Statements (agree, disagree or pass; opinion groups)",
}
STATUSES = {"open": "Open", "closed": "Closed"}
WEB_CHANNEL = "web|public|"


def place(platform: str, channel_id: str, name: str | None) -> dict[str, str]:
    """A channel as the dashboard shows it: the platform's name for it, else its id."""
    return {
        "platform": platform_name(platform),
        "name": name or channel_id,
        "id": channel_id,
        "named": "yes" if name else "",
    }


def day_and_time(at: datetime | None) -> tuple[str, str] | None:
    """("24 Dec 2026", "16:55 UTC"): a table cell wraps between them, never inside."""
    return (f"{at.day} {at:%b %Y}", f"{at:%H:%M} UTC") if at else None


def when(at: datetime | None) -> str:
    return f"{at.day} {at:%b %Y %H:%M} UTC" if at else ""


@require("policy")
async def overview(request: web.Request, staff: Staff) -> web.StreamResponse:
    dash = request.app[DASHBOARD]
    query = request.query
    filters = {
        "status": query.get("status", "") if query.get("status") in STATUSES else "",
        "kind": query.get("kind", "") if query.get("kind") in KINDS else "",
        "platform": query.get("platform", "") if query.get("platform") in PLATFORMS else "",
        "q": query.get("q", "").strip()[:100],
    }
    raw_page = query.get("page", "1")
    page = int(raw_page) if raw_page.isascii() and raw_page.isdigit() else 1
    page = max(1, min(page, 100_000))
    async with dash.townhall.db.transaction() as session:
        rows, total = await InsightsRepository(session).overview(
            status=filters["status"] or None,
            kind=filters["kind"] or None,
            platform=filters["platform"] or None,
            q=filters["q"] or None,
            limit=PER_PAGE,
            offset=(page - 1) * PER_PAGE,
        )
    pages = max(1, math.ceil(total / PER_PAGE))
    active = {k: v for k, v in filters.items() if v}

    def page_href(number: int) -> str:
        return "/items?" + urlencode({**active, "page": number})

    table = [
        {
            "short_id": row.item.short_id,
            "question": row.item.question,
            "kind": KINDS.get(row.item.kind, row.item.kind),
            "status": row.item.status,
            "places": [place(p, c, row.channel_names.get((p, c))) for p, c in row.publications],
            "respondents": row.respondents,
            "waiting": row.answers_waiting,
            "deadline": day_and_time(row.item.closes_at),
        }
        for row in rows
    ]
    context = {
        "title": "Items",
        "rows": table,
        "total": total,
        "filters": filters,
        "filtered": bool(active),
        "kinds": KINDS,
        "statuses": STATUSES,
        "platforms": PLATFORMS,
        "pagination": {
            "previous": {"href": page_href(page - 1)} if page > 1 else None,
            "next": {"href": page_href(page + 1)} if page < pages else None,
            "page": page,
            "pages": pages,
        },
    }
    return dash.render(request, "dashboard/items.html", context)


@dataclass
class NewItemForm:
    kind: str = "poll"
    question: str = ""
    options: str = ""
    closes: str = ""
    results: str = "live"
    moderation: str = "strict"
    channel: str = WEB_CHANNEL
    #: The item's Welsh (issue 18): sent as the command's --cy.
    question_cy: str = ""
    options_cy: str = ""

    def option_lines(self) -> list[str]:
        return [line.strip() for line in self.options.splitlines() if line.strip()]

    def welsh_option_lines(self) -> list[str]:
        return [line.strip() for line in self.options_cy.splitlines() if line.strip()]


async def _channels(request: web.Request) -> list[dict[str, str]]:
    dash = request.app[DASHBOARD]
    async with dash.townhall.db.transaction() as session:
        known = await InsightsRepository(session).known_channels()
    choices = [{"value": WEB_CHANNEL, "text": "Web chat (public page)"}]
    for channel in known:
        value = f"{channel.platform}|{channel.channel_id}|{channel.thread_id or ''}"
        if value == WEB_CHANNEL or any(c["value"] == value for c in choices):
            continue
        label = f"{platform_name(channel.platform)}: {channel.name or channel.channel_id}"
        if channel.thread_id:
            label += f" (thread {channel.thread_id})"
        choices.append({"value": value, "text": label})
    return choices


def _render_form(
    request: web.Request,
    form: NewItemForm,
    channels: list[dict[str, str]],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    errors = errors or {}
    summary = [{"text": text, "href": f"#{field}"} for field, text in errors.items()]
    context = {
        "title": "Create and publish an item",
        "form": form,
        "kinds": KINDS,
        "channels": channels,
        "errors": errors,
        "error_summary": summary,
    }
    return request.app[DASHBOARD].render(request, "dashboard/new_item.html", context, status=status)


@require("policy")
async def new_item_page(request: web.Request, staff: Staff) -> web.StreamResponse:
    return _render_form(request, NewItemForm(), await _channels(request))


def _validate(form: NewItemForm, channels: list[dict[str, str]], now: datetime) -> dict[str, str]:
    errors: dict[str, str] = {}
    if form.kind not in KINDS:
        errors["kind"] = "Select what kind of item to publish"
    question = " ".join(form.question.split())
    if not question:
        errors["question"] = "Enter the question or statement"
    elif len(question) > MAX_QUESTION:
        errors["question"] = f"The question must be {MAX_QUESTION} characters or fewer"
    if form.kind in ("poll", "multi"):
        lines = form.option_lines()
        if not MIN_OPTIONS <= len(lines) <= MAX_OPTIONS:
            errors["options"] = (
                f"Enter between {MIN_OPTIONS} and {MAX_OPTIONS} options, one on each line"
            )
        elif len({" ".join(o.split()).casefold() for o in lines}) != len(lines):
            errors["options"] = "Each option must be different"
    if form.kind == "statements":
        lines = form.option_lines()
        if len(lines) > MAX_SEEDS:
            errors["options"] = f"Enter at most {MAX_SEEDS} statements, one on each line"
        elif any(len(" ".join(line.split())) > MAX_STATEMENT for line in lines):
            errors["options"] = f"Each statement must be {MAX_STATEMENT} characters or fewer"
        elif len({" ".join(o.split()).casefold() for o in lines}) != len(lines):
            errors["options"] = "Each statement must be different"
    welsh = " ".join(form.question_cy.split())
    welsh_options = form.welsh_option_lines()
    if len(welsh) > MAX_QUESTION:
        errors["question_cy"] = f"The Welsh question must be {MAX_QUESTION} characters or fewer"
    elif welsh_options and not welsh:
        errors["question_cy"] = "Enter the question in Welsh, or leave the Welsh options empty"
    if welsh_options and form.kind not in ("poll", "multi"):
        errors["options_cy"] = "Leave the Welsh options empty for a scale or an open question"
    elif welsh_options and len(welsh_options) != len(form.option_lines()):
        errors["options_cy"] = "Enter one Welsh option for each option, in the same order"
    elif any("|" in text for text in (welsh, *welsh_options)):
        errors["options_cy"] = "The Welsh cannot contain |"
    if form.closes.strip():
        try:
            parse_deadline(form.closes, now)
        except UserError:
            errors["closes"] = (
                "Enter when it closes as a time from now, like 6h or 2d, or a date and time "
                "in the future, like 2026-12-01T12:00Z"
            )
    if form.kind not in ("ask", "statements") and form.results not in ("live", "closed"):
        errors["results"] = "Select when people see the results"
    if form.kind in ("ask", "statements") and form.moderation not in ("strict", "lazy"):
        errors["moderation"] = "Select how answers are moderated"
    if form.channel not in {c["value"] for c in channels}:
        errors["channel"] = "Select where to publish it"
    return errors


def command_for(form: NewItemForm) -> ParsedCommand:
    """The chat command that publishes this form's item, already parsed: no quoting."""
    question = " ".join(plain_quotes(form.question).split())
    flags: frozenset[str] = frozenset()
    options: dict[str, str] = {}
    if form.kind in ("poll", "multi"):
        name, args = "poll", (question, *(plain_quotes(o) for o in form.option_lines()))
        if form.kind == "multi":
            flags = frozenset({"multi"})
    elif form.kind == "scale":
        name, args = "scale", (question,)
    elif form.kind == "statements":
        name, args = "statements", (question, *(plain_quotes(o) for o in form.option_lines()))
        options["moderation"] = form.moderation
    else:
        name, args = "ask", (question,)
        options["moderation"] = form.moderation
    if form.kind not in ("ask", "statements"):
        options["results"] = form.results
    if form.closes.strip():
        options["closes"] = " ".join(plain_quotes(form.closes).split())
    welsh = " ".join(plain_quotes(form.question_cy).split())
    if welsh:
        options["cy"] = " | ".join([welsh, *(plain_quotes(o) for o in form.welsh_option_lines())])
    return ParsedCommand(name, args, flags, options)


@require("policy")
async def create_item(request: web.Request, staff: Staff) -> web.StreamResponse:
    dash = request.app[DASHBOARD]
    posted = await request.post()
    fields: dict[str, Any] = {
        name: str(posted.get(name, "")) for name in NewItemForm.__dataclass_fields__
    }
    form = NewItemForm(**{k: v for k, v in fields.items() if v or k in ("question", "options")})
    channels = await _channels(request)
    errors = _validate(form, channels, dash.townhall.clock())
    if errors:
        return _render_form(request, form, channels, errors, status=400)
    platform, channel_id, thread_id = form.channel.split("|", 2)
    command = command_for(form)
    event = Event(
        platform=platform,
        event_id=f"dashboard-{uuid.uuid4()}",
        kind=EventKind.COMMAND,
        actor=Actor(
            user_id=staff.subject,
            display_name=staff.email,
            platform_roles=frozenset({"policy"}),
            staff=staff.subject,
        ),
        target=Target(channel_id, thread_id or None),
        text=command.name,
        command=command,
    )
    outcome = await dash.townhall.dispatch(event)
    created = outcome.result(ItemCreated)
    if created is None:
        said = " ".join(str(getattr(n, "text", "")) for n in outcome.notices).strip()
        message = said or "The item could not be published. Try again."
        return _render_form(request, form, channels, {"question": message}, status=400)
    dash.flash(request, f"Published {KINDS[form.kind].lower()} {created.short_id}.")
    return dash.redirect(request, f"/items/{created.short_id}")


def routes() -> list[web.RouteDef]:
    return [
        web.get("/items", overview),
        web.get("/items/new", new_item_page),
        web.post("/items/new", create_item),
    ]
