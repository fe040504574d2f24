"""Wiring: settings, database, routers, adapters, outbox worker, scheduler, HTTP server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import structlog
from aiohttp import web

from bot.adapter import Adapter, Outcome
from bot.config import Settings
from bot.context import Clock, utc_now
from bot.delivery import Deliverer
from bot.dispatch import Dispatcher
from bot.events import Event
from bot.http import EVENTS, Health, build_web_app
from bot.router import RouteTable
from bot.scheduler import Scheduler
from handlers import all_routers, lifecycle, screening
from storage import migrate
from storage.db import Database

log = structlog.get_logger("townhall.app")

#: Adds routes or middleware to the one HTTP server before it starts (e.g. the dashboard).
WebExtension = Callable[["Townhall", web.Application], None]


class Townhall:
    """One running Townhall process: the core plus whichever adapters are configured."""

    def __init__(
        self,
        settings: Settings,
        adapters: Sequence[Adapter] = (),
        *,
        db: Database | None = None,
        clock: Clock = utc_now,
        web_extensions: Sequence[WebExtension] = (),
    ) -> None:
        self.settings = settings
        self.web_extensions = list(web_extensions)
        self.db = db or Database(settings.database_url)
        self.clock = clock
        self.adapters = {a.name: a for a in adapters}
        self.routes = RouteTable(all_routers())
        self.deliverer = Deliverer(
            self.db,
            self.adapters,
            lifecycle.render_publication,
            clock=clock,
            give_up_after=settings.outbox_give_up_after,
        )
        self.scheduler = Scheduler(
            self.db,
            interval=settings.scheduler_interval,
            clock=clock,
            on_change=self.deliverer.wake,
        )
        self.dispatcher = Dispatcher(
            self.db, settings, self.routes, clock=clock, on_commit=self._committed
        )
        #: Every background loop, supervised: they survive failures and report their health.
        self.loops = [self.deliverer.loop, self.scheduler.loop]
        self._background = False
        self._runner: web.AppRunner | None = None

    def _committed(self) -> None:
        self.deliverer.wake()
        self.scheduler.poke()

    async def dispatch(self, event: Event) -> Outcome:
        outcome = await self.dispatcher(event)
        result = "duplicate" if outcome.duplicate else "failed" if outcome.failed else "ok"
        EVENTS.labels(event.platform, event.kind.value, result).inc()
        return outcome

    async def prepare(self) -> None:
        if self.settings.auto_migrate:
            await migrate.upgrade(self.db)
        # Load the abuse model now rather than on the first answer (about a second).
        await asyncio.to_thread(screening.abuse_score, "warm up")

    async def start(self, *, serve_http: bool = True, background: bool = True) -> None:
        await self.prepare()
        if serve_http:
            routes = [r for a in self.adapters.values() for r in a.http_routes()]
            web_app = build_web_app(
                self.db,
                list(self.adapters),
                routes,
                assets_dir=self.settings.govuk_assets,
                health=self.health,
            )
            for extend in self.web_extensions:
                extend(self, web_app)
            self._runner = web.AppRunner(web_app, access_log=None)
            await self._runner.setup()
            site = web.TCPSite(self._runner, self.settings.http_host, self.settings.http_port)
            await site.start()
        for adapter in self.adapters.values():
            await adapter.start(self.dispatch)
        self._background = background
        if background:
            for loop in self.loops:
                loop.start()

    def health(self) -> Health:
        """What ``/healthz`` and ``/readyz`` report besides the database."""
        return Health(
            adapters={a.name: a.connected for a in self.adapters.values()},
            loops=[loop.status() for loop in self.loops] if self._background else [],
        )

    @property
    def http_port(self) -> int:
        """The bound port (useful when configured as 0 in tests)."""
        assert self._runner is not None
        for site in self._runner.sites:
            server = getattr(site, "_server", None)
            if server is not None and server.sockets:
                return int(server.sockets[0].getsockname()[1])
        return self.settings.http_port

    async def stop(self) -> None:
        """Stop everything; never raises (a SIGTERM during or after an outage exits cleanly)."""
        for loop in self.loops:
            try:
                await loop.stop()
            except Exception as exc:
                log.warning("background loop ended badly", loop=loop.name, error=type(exc).__name__)
        for adapter in self.adapters.values():
            try:
                await adapter.stop()
            except Exception:
                log.exception("adapter stop failed", adapter=adapter.name)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        try:
            await self.db.dispose()
        except Exception as exc:
            log.warning("database pool did not close cleanly", error=type(exc).__name__)
