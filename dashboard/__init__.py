"""The policy team's web pages: sign-in, results, tagging, moderation, exports.

:func:`install` adds them to Townhall's one HTTP server (``Townhall(web_extensions=[install])``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from dashboard import auth
from dashboard.core import DASHBOARD, Dashboard
from dashboard.pages import (
    consultation,
    consultation_respond,
    consultation_upload,
    deliveries,
    escalations,
    item,
    item_suggest,
    item_tags,
    items,
    moderation,
)

if TYPE_CHECKING:
    from bot.host import Host as Townhall


def routes() -> list[web.RouteDef]:
    """Every dashboard route: sign-in, then the page modules (``/items/new`` before items)."""
    return [
        *auth.routes(),
        *items.routes(),
        *item.routes(),
        *escalations.routes(),
        *item_tags.routes(),
        *item_suggest.routes(),
        *moderation.routes(),
        *deliveries.routes(),
        *consultation_upload.routes(),
        *consultation_respond.routes(),
        *consultation.routes(),
    ]


def install(townhall: Townhall, web_app: web.Application) -> None:
    """Serve the dashboard from ``web_app`` on behalf of ``townhall``."""
    dash = web_app[DASHBOARD] = Dashboard(townhall)

    async def close(_app: web.Application) -> None:
        dash.passwords.close()

    web_app.on_cleanup.append(close)
    web_app.router.add_routes(routes())
