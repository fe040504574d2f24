"""A moderation decision taken on the dashboard: the chat's own event, its typed result."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from aiohttp import web

from bot.events import Actor, Event, EventKind, Target
from bot.outcomes import Decided
from bot.views import Notice
from dashboard.core import Dashboard


async def decide_as_in_chat(
    request: web.Request,
    dashboard: Dashboard,
    back: str,
    *,
    actor: Actor,
    action_id: str,
    decision: str,
    allowed: Collection[str],
    choose: str,
    answer_id: int,
    reason: str,
) -> web.StreamResponse:
    """Dispatch ``action_id`` ``decision:answer_id`` as the chat would, flash what the handler
    said (an error unless its typed result names this answer), and go ``back``. A decision
    not ``allowed`` here is refused with ``choose`` (what to pick instead)."""
    if decision not in allowed:
        dashboard.flash(request, choose, "error")
        return dashboard.redirect(request, back)
    event = Event(
        platform="dashboard",
        event_id=f"dashboard-{uuid.uuid4().hex}",
        kind=EventKind.SUBMIT,
        actor=actor,
        target=Target(channel_id="dashboard", private=True),
        text=reason,
        action_id=action_id,
        action_value=f"{decision}:{answer_id}",
    )
    outcome = await dashboard.townhall.dispatch(event)
    said = " ".join(n.text for n in outcome.notices if isinstance(n, Notice))
    decided = outcome.result(Decided)
    done = not outcome.failed and decided is not None and decided.answer_id == answer_id
    dashboard.flash(request, said or "Nothing was changed.", "success" if done else "error")
    return dashboard.redirect(request, back)
