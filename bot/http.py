"""Townhall's one aiohttp server: webhooks, health probes, the web foundation.

The foundation is shared by the web chat (``/c/``) and the dashboard: security headers on every
response, GOV.UK Frontend's assets at ``/assets/`` and the dashboard's own files at ``/static/``
(the application passes their folder in: the core does not know where the dashboard lives).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from aiohttp import web
from aiohttp.typedefs import Middleware

from bot.loops import LoopStatus
from storage.db import Database

log = structlog.get_logger("townhall.http")

DB_PROBE_TIMEOUT = 3.0

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; form-action 'self'; base-uri 'self'; object-src 'none'; "
    "frame-ancestors 'none'"
)
#: Every response gets these unless its handler set them already.
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
#: Only the web chat may be framed (its embed snippet); it sets its own CSP.
FRAMEABLE_PREFIX = "/c/"
LONG_CACHE = "public, max-age=31536000, immutable"
SHORT_CACHE = "public, max-age=3600"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def security_headers_for(path: str) -> dict[str, str]:
    headers = dict(SECURITY_HEADERS)
    if path == FRAMEABLE_PREFIX.rstrip("/") or path.startswith(FRAMEABLE_PREFIX):
        del headers["X-Frame-Options"]
    return headers


def _apply(request: web.Request, response: web.StreamResponse) -> None:
    if response.prepared:
        return
    for name, value in security_headers_for(request.path).items():
        response.headers.setdefault(name, value)


@web.middleware
async def security_headers(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Add the security headers to every response, errors included."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _apply(request, exc)
        raise
    except Exception:  # aiohttp's own 500 page would go out without the headers
        log.exception("request failed", path=request.path, method=request.method)
        response = web.Response(status=500, text="500 Internal Server Error")
    _apply(request, response)
    return response


def file_handler(path: Path, cache: str) -> Handler:
    async def serve(_request: web.Request) -> web.StreamResponse:
        return web.FileResponse(path, headers={"Cache-Control": cache})

    return serve


def asset_routes(assets_dir: Path | None, static_dir: Path | None = None) -> list[web.RouteDef]:
    """GOV.UK Frontend at /assets/ (fonts and images cached long) and ``static_dir`` at /static/."""
    routes: list[web.RouteDef] = []
    if assets_dir is None or not (assets_dir / "govuk-frontend.min.css").is_file():
        log.warning(
            "GOV.UK Frontend assets not found: run `npm ci` in the Townhall directory "
            "(or set TOWNHALL_ASSETS_DIR); pages will render unstyled",
            assets_dir=str(assets_dir) if assets_dir else None,
        )
    else:
        root = assets_dir.resolve()

        for name in ("govuk-frontend.min.css", "govuk-frontend.min.js"):
            routes.append(web.get(f"/assets/{name}", file_handler(root / name, SHORT_CACHE)))
        routes.append(
            web.get(
                "/assets/manifest.json",
                file_handler(root / "assets" / "manifest.json", SHORT_CACHE),
            )
        )
        for sub in ("fonts", "images"):
            routes.append(web.get(f"/assets/{sub}/{{name}}", _directory(root / "assets" / sub)))
        # Browsers ask for /favicon.ico whatever the page links (PDF viewers, bookmarks).
        favicon = root / "assets" / "images" / "favicon.ico"
        routes.append(web.get("/favicon.ico", file_handler(favicon, SHORT_CACHE)))
    if static_dir is not None:
        routes.append(web.get("/static/{name}", _directory(static_dir, cache=SHORT_CACHE)))
    return routes


def _directory(
    folder: Path, cache: str = LONG_CACHE
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Serve plain files from one folder (no subfolders, no dotfiles, no traversal)."""

    async def serve(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name.startswith(".") or "/" in name or "\\" in name:
            raise web.HTTPNotFound()
        path = folder / name
        if not path.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(path, headers={"Cache-Control": cache})

    return serve


@dataclass(frozen=True, slots=True)
class Health:
    """The process's own view of itself: adapters connected, background loops running."""

    adapters: Mapping[str, bool] = field(default_factory=dict)
    loops: Sequence[LoopStatus] = ()
    #: False while the process is still starting (adapters connecting, loops not yet running).
    started: bool = True

    def loops_json(self) -> dict[str, dict[str, object]]:
        return {loop.name: loop.as_dict() for loop in self.loops}


async def _database_ok(db: Database) -> bool:
    """``SELECT 1`` within a few seconds (an exhausted pool must not hang the probe)."""
    try:
        async with asyncio.timeout(DB_PROBE_TIMEOUT):
            await db.ping()
    except Exception:
        return False
    return True


def build_web_app(
    db: Database,
    adapters_on: Sequence[str],
    routes: Sequence[web.RouteDef],
    *,
    assets_dir: Path | None = None,
    static_dir: Path | None = None,
    middlewares: Sequence[Middleware] = (),
    health: Callable[[], Health] = Health,
) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024, middlewares=[security_headers, *middlewares])

    async def healthz(_request: web.Request) -> web.Response:
        """Alive: the database answers and no background loop died or is stuck."""
        state = health()
        loops = state.loops_json()
        if not await _database_ok(db):
            body = {"status": "error", "database": "unreachable", "loops": loops}
            return web.json_response(body, status=503)
        if not state.started:  # serving already, but its loops are not running yet
            return web.json_response({"status": "starting", "database": "ok"}, status=503)
        if not all(loop.ok for loop in state.loops):
            body = {"status": "error", "database": "ok", "loops": loops}
            return web.json_response(body, status=503)
        return web.json_response(
            {"status": "ok", "database": "ok", "adapters": sorted(adapters_on), "loops": loops}
        )

    async def readyz(_request: web.Request) -> web.Response:
        """Ready for traffic: database reachable, adapters connected, loops alive and beating."""
        state = health()
        database = await _database_ok(db)
        ready = (
            database
            and state.started
            and all(state.adapters.values())
            and all(loop.ok and loop.failures == 0 for loop in state.loops)
        )
        body = {
            "status": "ready" if ready else "not ready",
            "database": "ok" if database else "unreachable",
            "adapters": dict(state.adapters),
            "loops": state.loops_json(),
        }
        return web.json_response(body, status=200 if ready else 503)

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_routes(routes)
    app.router.add_routes(asset_routes(assets_dir, static_dir))
    return app
