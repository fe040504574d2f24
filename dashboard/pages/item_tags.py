"""Tagging several answers at once: select them on the item page, then apply one theme.

One compact control for the whole list (as GOV.UK's "select, then act" patterns do) instead
of a theme box and a Tag button under every answer. Each tag is audited like a single one.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web

from dashboard.core import Staff, require
from dashboard.pages.item import (
    _back,
    _dashboard,
    _item,
    _missing,
    audit_theme,
    chosen_theme,
    small_int,
)
from storage.models import Theme
from storage.moderation import ModerationRepository
from storage.themes import ThemeRepository

#: More than a page of answers is never selected at once.
MAX_SELECTED = 200


def _selected(values: Sequence[object]) -> list[int]:
    ids = [small_int(str(value), 18) for value in values]
    return list(dict.fromkeys(i for i in ids if i is not None))[:MAX_SELECTED]


@require("policy")
async def tag_selected(request: web.Request, staff: Staff) -> web.StreamResponse:
    dash = _dashboard(request)
    form = await request.post()
    selected = _selected(form.getall("answers", []))
    new_name = str(form.get("new_theme", "")).strip()
    chosen = str(form.get("theme_id", ""))
    now = dash.townhall.clock()
    problem: str | None = None
    async with dash.townhall.db.transaction() as session:
        item = await _item(session, request)
        if item is None:
            return _missing(request)
        found = ModerationRepository(session)
        answers = [a for i in selected if (a := await found.answer(i)) is not None]
        answers = [a for a in answers if a.item_id == item.id]
        themes = ThemeRepository(session)
        theme: Theme | None = None
        if not answers:
            problem = "Select the answers to tag."
        elif new_name and chosen:
            problem = "Choose a theme or enter a new theme name, not both."
        else:
            theme, problem = await chosen_theme(themes, item, new_name, chosen, staff, now)
        tagged = []
        if theme is not None and problem is None:
            for answer in answers:
                if await themes.tag(answer.id, theme.id, staff.email, now):
                    tagged.append(f"A{answer.id}")
                    await audit_theme(session, staff, "answer.tag", answer.id, item, theme, now)
    if problem:
        dash.flash(request, problem, "error")
    elif theme is not None:
        if tagged:
            dash.flash(request, f"Tagged {_listed(tagged)} “{theme.name}”.")
        else:
            dash.flash(request, f"The selected answers already had the theme “{theme.name}”.")
    anchor = answers[0].id if answers else None
    back = _back(item.short_id, request, anchor) if anchor else f"/items/{item.short_id}"
    return dash.redirect(request, back if anchor else back + "#answers")


def _listed(refs: list[str]) -> str:
    if len(refs) == 1:
        return f"answer {refs[0]}"
    return f"{len(refs)} answers ({', '.join(refs[:-1])} and {refs[-1]})"


def routes() -> list[web.RouteDef]:
    return [web.post("/items/{short_id}/answers/themes", tag_selected)]
