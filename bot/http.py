"""Townhall's one aiohttp server: webhooks, ``/healthz`` and ``/metrics``."""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, Counter, generate_latest
from sqlalchemy import text

from storage.db import Database

EVENTS = Counter(
    "townhall_events_total", "Platform events dispatched", ["platform", "kind", "outcome"]
)
DELIVERIES = Counter(
    "townhall_deliveries_total", "Outbox deliveries attempted", ["platform", "result"]
)


def build_web_app(
    db: Database, adapters_on: Sequence[str], routes: Sequence[web.RouteDef]
) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)

    async def healthz(_request: web.Request) -> web.Response:
        try:
            async with db.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return web.json_response({"status": "error", "database": "unreachable"}, status=503)
        return web.json_response(
            {"status": "ok", "database": "ok", "adapters": sorted(adapters_on)}
        )

    async def metrics(_request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_routes(routes)
    return app
