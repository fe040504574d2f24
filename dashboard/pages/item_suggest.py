"""Suggested themes on the item page: the officer reviews them, then accepts, renames, merges
or drops each; accepted ones become ordinary themes on their answers, each tag audited.

The suggestions are computed (services/themes.py) in a worker thread, one at a time, so a large
item never stalls the event loop that also serves webhooks. The review form carries each
suggestion's answer ids, so what the officer saw is what gets tagged; at acceptance only the
item's answers that are still visible are tagged.
"""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from dashboard.core import Staff, require
from dashboard.pages.item import KIND_NAMES, _dashboard, _item, _missing, small_int
from services import themes as suggester
from storage.ledger import AuditLog
from storage.models import Item
from storage.themes import ThemeRepository, theme_name

#: One suggestion at a time per process: each may take seconds and a few hundred MB at most.
_WORKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="themes")
_IDS = re.compile(r"[0-9]{1,18}")
#: At most this many suggestions are read back from a form.
MAX_SUGGESTIONS = suggester.MAX_K


@require("policy")
async def suggestions_page(request: web.Request, staff: Staff) -> web.StreamResponse:
    dash = _dashboard(request)
    raw_k = request.query.get("k", "").strip()
    k = small_int(raw_k, 2) if raw_k else None
    problem = None
    if raw_k and (k is None or not 1 <= k <= suggester.MAX_K):
        problem, k = f"Enter a number of themes from 1 to {suggester.MAX_K}.", None
    async with dash.townhall.db.transaction() as session:
        item = await _item(session, request)
        if item is None or not suggester.has_open_answers(item):
            return _missing(request)
        answers = await ThemeRepository(session).visible_texts(item.id)
    found = await asyncio.get_running_loop().run_in_executor(_WORKER, suggester.suggest, answers, k)
    context: dict[str, Any] = {
        "title": f"Suggested themes: {item.question}",
        "item": item,
        "kind_name": KIND_NAMES.get(item.kind, item.kind),
        "item_path": f"/items/{item.short_id}",
        "found": found,
        "answer_total": len(answers),
        "k": raw_k if problem else (k or ""),
        "k_problem": problem,
    }
    return dash.render(request, "dashboard/item_suggest.html", context)


def _ids(value: object) -> list[int]:
    return list(dict.fromkeys(int(i) for i in _IDS.findall(str(value))))


@require("policy")
async def accept_suggestions(request: web.Request, staff: Staff) -> web.StreamResponse:
    dash = _dashboard(request)
    form = await request.post()
    chosen: list[tuple[str, list[int]]] = []
    problem = None
    for number in range(1, MAX_SUGGESTIONS + 1):
        if f"answers-{number}" not in form or form.get(f"accept-{number}") != "yes":
            continue
        try:
            name = theme_name(str(form.get(f"name-{number}", "")))
        except ValueError:
            problem = f"Enter a name of 1 to 60 characters for suggestion {number}."
            break
        chosen.append((name, _ids(form.get(f"answers-{number}", ""))))
    if problem is None and not chosen:
        problem = "Tick at least one suggestion to accept, or go back to the item."
    now = dash.townhall.clock()
    async with dash.townhall.db.transaction() as session:
        item = await _item(session, request)
        if item is None or not suggester.has_open_answers(item):
            return _missing(request)
        if problem is None:
            names, tagged = await _accept(session, staff, item, chosen, now)
    back = f"/items/{item.short_id}"
    if problem is not None:
        dash.flash(request, problem, "error")
        k = small_int(str(form.get("k", "")), 2)
        return dash.redirect(request, f"{back}/themes/suggest" + (f"?k={k}" if k else ""))
    dash.flash(request, _accepted(names, tagged))
    return dash.redirect(request, back + "#themes")


async def _accept(
    session: AsyncSession,
    staff: Staff,
    item: Item,
    chosen: list[tuple[str, list[int]]],
    now: datetime,
) -> tuple[list[str], int]:
    """Create (or reuse) each accepted theme and tag its answers; suggestions given the same
    name are merged into one theme. Each new tag is audited as ``answer.tag``."""
    themes = ThemeRepository(session)
    audit = AuditLog(session)
    names: list[str] = []
    tagged = 0
    for name, ids in chosen:
        theme = await themes.create(item, name, staff.email, now)
        if theme.name not in names:
            names.append(theme.name)
        for answer_id in await themes.still_visible(item.id, ids):
            if await themes.tag(answer_id, theme.id, staff.email, now):
                tagged += 1
                await audit.record(
                    staff.subject,
                    "answer.tag",
                    f"A{answer_id}",
                    now,
                    item=item.short_id,
                    theme=theme.name,
                    suggested=True,
                )
    return names, tagged


def _accepted(names: list[str], tagged: int) -> str:
    quoted = [f"“{n}”" for n in names]
    listed = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"
    theme_word = "theme" if len(names) == 1 else "themes"
    answer_word = "answer" if tagged == 1 else "answers"
    return f"Accepted the {theme_word} {listed}: {tagged} {answer_word} tagged."


def routes() -> list[web.RouteDef]:
    path = "/items/{short_id}/themes/suggest"
    return [web.get(path, suggestions_page), web.post(path, accept_suggestions)]
