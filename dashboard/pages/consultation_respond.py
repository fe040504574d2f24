"""The "you said, we did" form of a consultation's page: ``POST /consultations/{slug}/respond``.

The page itself (``/consultations/{slug}``) includes the partial
``dashboard/_consultation_respond.html`` with ``slug`` and ``csrf``. The response goes through
the same service as the chat's ``respond`` command (``services.consultation_response``):
recorded, audited under the staff account, and queued once to each person who took part.
"""

from __future__ import annotations

import structlog
from aiohttp import web

from dashboard.core import DASHBOARD, Staff, require
from services import consultation_response

log = structlog.get_logger("townhall.dashboard")


@require("policy")
async def respond(request: web.Request, staff: Staff) -> web.StreamResponse:
    dash = request.app[DASHBOARD]
    slug = request.match_info["slug"]
    form = await request.post()
    text = str(form.get("response", ""))
    back = f"/consultations/{slug}"
    try:
        async with dash.townhall.db.transaction() as session:
            sent = await consultation_response.respond(
                session,
                slug,
                text,
                staff.subject,
                dash.townhall.clock(),
                dash.townhall.settings.default_language,
            )
    except consultation_response.ResponseRefused as exc:
        log.info("consultation response refused", reason=str(exc)[:80])
        dash.flash(request, str(exc), "error")
        return dash.redirect(request, back + "#respond")
    dash.townhall.wake_outbox()
    dash.flash(
        request,
        f"Response recorded and sent to {sent.recipients} "
        f"participant{'' if sent.recipients == 1 else 's'}.",
    )
    return dash.redirect(request, back)


def routes() -> list[web.RouteDef]:
    return [web.post("/consultations/{slug:[a-z0-9-]{1,100}}/respond", respond)]
