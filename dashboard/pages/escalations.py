"""Escalated answers on an item's page: the moderator's reason, and the policy team's decision.

A decision made here is dispatched as a core event (the "escalated" form), so the handler that
approves or hides it is the chat's own: same rules, same audit entry naming the account.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.events import Actor
from dashboard.core import DASHBOARD, Staff, require
from dashboard.pages.decisions import decide_as_in_chat
from storage.models import Item
from storage.moderation import ModerationRepository

DECISIONS = {"approve": "Approve", "hide": "Hide"}


def _when(at: datetime) -> str:
    return f"{at.day} {at:%B %Y at %H:%M} UTC"


async def for_item(session: AsyncSession, item: Item) -> list[dict[str, Any]]:
    """What the item page shows of each escalated answer."""
    shown = []
    for answer, entry in await ModerationRepository(session).escalated(item.id):
        why = str((entry.details or {}).get("why", "")) if entry is not None else ""
        shown.append(
            {
                "id": answer.id,
                "text": answer.text,
                "status": answer.status,
                "reason": "" if why == "escalate" else why,
                "when": _when(entry.at) if entry is not None else "",
            }
        )
    return shown


@require("policy")
async def decide(request: web.Request, staff: Staff) -> web.StreamResponse:
    dashboard = request.app[DASHBOARD]
    short_id = request.match_info["short_id"]
    answer_id = int(request.match_info["answer_id"])
    form = await request.post()
    decision = str(form.get("decision", ""))
    back = f"/items/{short_id}#escalated"
    return await decide_as_in_chat(
        request,
        dashboard,
        back,
        actor=Actor(
            user_id=staff.email,
            display_name=staff.email,
            platform_roles=frozenset({"policy"}),
            staff=staff.subject,
        ),
        action_id="escalated",
        decision=decision,
        allowed=DECISIONS,
        choose="Choose Approve or Hide.",
        answer_id=answer_id,
        reason=" ".join(str(form.get("reason", "")).split())[:500],
    )


def routes() -> list[web.RouteDef]:
    return [web.post("/items/{short_id}/escalated/{answer_id:[0-9]{1,18}}", decide)]
