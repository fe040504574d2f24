"""Failed deliveries: outbox messages a platform refused for good, or that may not have
arrived (a send that timed out where a resend could post a second copy). The policy team can
send one again; each retry is audited."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from dashboard.core import DASHBOARD, Staff, require
from storage.ledger import AuditLog
from storage.outbox import OutboxRepository

PLATFORM_NAMES = {"slack": "Slack", "telegram": "Telegram", "discord": "Discord", "web": "Web chat"}
STATUS_TEXT = {"failed": "Not delivered", "uncertain": "May not have arrived"}


def routes() -> list[web.RouteDef]:
    return [
        web.get("/deliveries", deliveries_page),
        web.post(r"/deliveries/{outbox_id:\d{1,18}}/retry", retry),
    ]


@require("policy")
async def deliveries_page(request: web.Request, staff: Staff) -> web.StreamResponse:
    dashboard = request.app[DASHBOARD]
    async with dashboard.townhall.db.transaction() as session:
        found = await OutboxRepository(session).undelivered()
    rows: list[dict[str, Any]] = [
        {
            "id": row.id,
            "what": str((row.view or {}).get("title") or (row.view or {}).get("text") or "")[:80]
            or "(message)",
            "where": PLATFORM_NAMES.get(row.platform, row.platform)
            + (" (a private message)" if row.private else ""),
            "status": STATUS_TEXT.get(row.status, row.status),
            "since": f"{row.created_at:%Y-%m-%d %H:%M} UTC",
            "error": (row.last_error or "")[:120],
        }
        for row in found
    ]
    return dashboard.render(
        request, "dashboard/deliveries.html", {"title": "Failed deliveries", "rows": rows}
    )


@require("policy")
async def retry(request: web.Request, staff: Staff) -> web.StreamResponse:
    dashboard = request.app[DASHBOARD]
    townhall = dashboard.townhall
    outbox_id = int(request.match_info["outbox_id"])
    now = townhall.clock()
    async with townhall.db.transaction() as session:
        done = await OutboxRepository(session).retry(outbox_id, now)
        if done:
            await AuditLog(session).record(
                staff.subject, "outbox.retry", f"outbox:{outbox_id}", now
            )
    if done:
        townhall.wake_outbox()
        dashboard.flash(request, "It will be sent again now.")
    else:
        dashboard.flash(request, "That message is not waiting for a retry.", "error")
    return dashboard.redirect(request, "/deliveries")
