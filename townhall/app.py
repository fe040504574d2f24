"""Wiring: settings, database, routers, adapters, outbox worker, scheduler, HTTP server."""

from __future__ import annotations

import asyncio
import contextlib
import errno
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import structlog
from aiohttp import web

import dashboard
from bot import forwarded, identifiers, metrics, safety
from bot.adapter import Adapter, Outcome
from bot.batcher import Batcher
from bot.config import ConfigError, Settings
from bot.context import Clock, utc_now
from bot.delivery import Deliverer
from bot.dispatch import Dispatcher
from bot.events import Event
from bot.http import Health, build_web_app
from bot.leases import HasRoles, LeaseKeeper, Role
from bot.loops import SupervisedLoop
from bot.metrics import Metrics
from bot.router import RouteTable
from bot.sendrate import SendLimiter
from bot.views import Notice
from handlers import all_routers, polls
from services import lifecycle, screening
from storage import migrate
from storage.db import WROTE_DEADLINE, WROTE_OUTBOX, Database
from storage.outbox import OutboxRepository
from townhall.scheduler import Scheduler

log = structlog.get_logger("townhall.app")

#: The dashboard's own files, served at /static/ (only the top floor knows where parts live).
#: Graceful shutdown's budget (seconds), about 10 s in all: the vote batches waiting, the
#: outbox's due messages, then the HTTP requests still open.
SHUTDOWN_BATCHES = 5.0
SHUTDOWN_OUTBOX = 3.0
SHUTDOWN_REQUESTS = 1.5

STATIC_DIR = Path(dashboard.__file__).resolve().parent / "static"

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
        reuse_port: bool = False,
    ) -> None:
        """``reuse_port``: bind with SO_REUSEPORT, beside other workers (``--workers``)."""
        self.reuse_port = reuse_port
        self.settings = settings
        self.web_extensions = list(web_extensions)
        self.db = db or Database(settings.database_url)
        self.clock = clock
        self.adapters = {a.name: a for a in adapters}
        self.metrics = Metrics()  # this app's own registry, served at /metrics
        self.routes = RouteTable(all_routers())
        self.deliverer = Deliverer(
            self.db,
            self.adapters,
            lifecycle.render_publication,
            clock=clock,
            give_up_after=settings.outbox_give_up_after,
            metrics=self.metrics,
            limiter=send_limiter(settings, self.db),
        )
        self.scheduler = Scheduler(
            self.db,
            interval=settings.scheduler_interval,
            clock=clock,
            on_change=self.deliverer.wake,
            reminder_hours=settings.reminder_hours,
            default_language=settings.default_language,
        )
        self.dispatcher = Dispatcher(
            self.db, settings, self.routes, clock=clock, on_commit=self._committed
        )
        #: Vote clicks take the grouped write path (one transaction per batch of clicks).
        self.batcher = Batcher(
            self.db,
            self.dispatcher,
            polls.record_votes,
            polls.is_vote_click,
            on_commit=self._committed,
            on_batch=self.metrics.batch,
            on_commit_seconds=self.metrics.commit_seconds.observe,
        )
        self.dispatcher.batcher = self.batcher
        self.metrics.before_scrape = self._outbox_gauges
        self._runner: web.AppRunner | None = None
        self._metrics_runner: web.AppRunner | None = None
        #: Every background loop, supervised: they survive failures and report their health.
        self.loops = [self.deliverer.loop, self.scheduler.loop]
        #: Jobs one worker runs at a time (the scheduler, Telegram polling, ...); set in start.
        self.leases = LeaseKeeper(self.db, [])
        self._background = False
        self._started = False

    def _committed(self, wrote: frozenset[str]) -> None:
        """Wake a background loop only for what the transaction wrote for it (a vote that
        wrote no outbox row and no deadline wakes neither; wake-ups coalesce in each loop)."""
        if WROTE_OUTBOX in wrote:
            self.deliverer.wake()
        if WROTE_DEADLINE in wrote:
            self.scheduler.poke()

    async def _outbox_gauges(self) -> None:
        async with self.db.transaction() as session:
            pending, oldest = await OutboxRepository(session).backlog()
        age = (self.clock() - oldest).total_seconds() if oldest is not None else 0.0
        self.metrics.outbox(pending, max(0.0, age))

    async def dispatch(self, event: Event) -> Outcome:
        try:
            identifiers.check_event(event)  # before anything is stored, even the event id
        except identifiers.IdentifierTooLong as exc:
            platform = event.platform if len(event.platform) <= identifiers.PLATFORM else "?"
            log.info("refused", platform=platform, kind=event.kind.value, reason="too long")
            self.metrics.child(self.metrics.events, platform, event.kind.value, "refused").inc()
            return Outcome(handled=True, notices=[Notice(exc.message)])
        outcome = await self.dispatcher(event)
        result = "duplicate" if outcome.duplicate else "failed" if outcome.failed else "ok"
        metrics = self.metrics
        metrics.child(metrics.events, event.platform, event.kind.value, result).inc()
        waited = (datetime.now(UTC) - event.received_at).total_seconds()
        metrics.child(metrics.ack_seconds, event.platform, event.kind.value).observe(waited)
        return outcome

    async def prepare(self) -> None:
        safety.check_settings(self.settings)
        if self.settings.auto_migrate:
            await migrate.upgrade(self.db)
        await safety.check_secret_key(self.db, self.settings, self.clock)
        # Load the abuse model now rather than on the first answer (about a second).
        await asyncio.to_thread(screening.abuse_score, "warm up")

    async def start(self, *, serve_http: bool = True, background: bool = True) -> None:
        await self.prepare()
        if serve_http:
            routes = [r for a in self.adapters.values() for r in a.http_routes()]
            routes += metrics.public_routes(self.settings, self.metrics)
            proxies = forwarded.parse_networks(self.settings.trusted_proxies)
            web_app = build_web_app(
                self.db,
                list(self.adapters),
                routes,
                assets_dir=self.settings.govuk_assets,
                static_dir=STATIC_DIR,
                middlewares=forwarded.trusted_proxies(proxies),
                health=self.health,
            )
            for extend in self.web_extensions:
                extend(self, web_app)
            self._runner = web.AppRunner(
                web_app, access_log=None, shutdown_timeout=SHUTDOWN_REQUESTS
            )
            await self._runner.setup()
            host, port = self.settings.http_host, self.settings.http_port
            reuse = self.reuse_port or None
            site = web.TCPSite(self._runner, host, port, reuse_port=reuse)
            await _listen(site, host, port, "TOWNHALL_HTTP")
            metrics_app = metrics.private_app(self.settings, self.metrics)
            if metrics_app is not None:
                self._metrics_runner = web.AppRunner(metrics_app, access_log=None)
                await self._metrics_runner.setup()
                host, port = self.settings.metrics_host, self.settings.metrics_port or 0
                site = web.TCPSite(self._metrics_runner, host, port, reuse_port=reuse)
                await _listen(site, host, port, "TOWNHALL_METRICS")
        # Asked before the adapters start: they leave these jobs to the leases.
        roles = [r for a in self.adapters.values() if isinstance(a, HasRoles) for r in a.roles()]
        for adapter in self.adapters.values():
            await adapter.start(self.dispatch)
        self._background = background
        if background:
            self.deliverer.loop.start()
            roles.append(Role("scheduler", self._start_scheduler, self.scheduler.loop.stop))
        self.leases = LeaseKeeper(self.db, roles)
        if roles:
            # The first claim now: a lone worker runs its jobs before start() returns.
            await self.leases.run_once()
            self.leases.loop.start()
        self._started = True

    async def _start_scheduler(self) -> None:
        self.scheduler.loop.start()

    def wake_outbox(self) -> None:
        """Deliver waiting outbox rows now rather than at the next poll."""
        self.deliverer.wake()

    def health(self) -> Health:
        """What ``/healthz`` and ``/readyz`` report besides the database."""
        return Health(
            adapters={a.name: a.connected for a in self.adapters.values()},
            loops=[loop.status() for loop in self._expected_loops()],
            started=self._started,
        )

    def _expected_loops(self) -> list[SupervisedLoop]:
        """The loops this worker should be running (the scheduler only with its lease)."""
        if not self._started:
            return []
        loops = [self.leases.loop] if self.leases.roles else []
        if self._background:
            loops.append(self.deliverer.loop)
            if "scheduler" in self.leases.running:
                loops.append(self.scheduler.loop)
        return loops

    @property
    def http_port(self) -> int:
        """The bound port (useful when configured as 0 in tests)."""
        assert self._runner is not None
        return _bound_port(self._runner) or self.settings.http_port

    @property
    def metrics_port(self) -> int | None:
        """The separate metrics listener's bound port, if there is one."""
        if self._metrics_runner is None:
            return None
        return _bound_port(self._metrics_runner) or self.settings.metrics_port

    async def stop(self) -> None:
        """Stop everything; never raises (a SIGTERM during or after an outage exits cleanly).

        Graceful, within about 10 s: stop accepting connections (requests already received
        go on), write the vote batches waiting and answer them, hand the leased jobs over (a
        survivor takes them), deliver what the outbox has due (bounded; the rest waits durably
        for the next start), then stop the rest.
        """
        self._started = False
        if self._runner is not None:
            for site in list(self._runner.sites):
                with contextlib.suppress(Exception):
                    await site.stop()
        try:
            await self.batcher.stop(grace=SHUTDOWN_BATCHES)
        except Exception as exc:
            log.warning("vote batches did not drain", error=type(exc).__name__)
        try:
            await self.leases.stop()  # the leased jobs stop first, and survivors take over
        except Exception as exc:
            log.warning("leased jobs ended badly", error=type(exc).__name__)
        for loop in self.loops:
            try:
                await loop.stop()
            except Exception as exc:
                log.warning("background loop ended badly", loop=loop.name, error=type(exc).__name__)
        if self._background:  # the loop is stopped: this is the only deliverer now
            try:
                await self.deliverer.drain(within=SHUTDOWN_OUTBOX)
            except Exception as exc:  # timed out or failing: the rest stays in the outbox
                log.info("outbox not drained before exit", error=type(exc).__name__)
            self._background = False
        for adapter in self.adapters.values():
            try:
                await adapter.stop()
            except Exception:
                log.exception("adapter stop failed", adapter=adapter.name)
        for runner in (self._runner, self._metrics_runner):
            if runner is not None:
                await runner.cleanup()
        self._runner = self._metrics_runner = None
        try:
            await self.db.dispose()
        except Exception as exc:
            log.warning("database pool did not close cleanly", error=type(exc).__name__)


def send_limiter(settings: Settings, db: Database) -> SendLimiter:
    """The outbox's send budget, kept where TOWNHALL_SHARED_STATE says."""
    store = settings.shared_store
    return SendLimiter(
        settings.redis_url if store == "redis" else None,
        db=db if store == "database" else None,
        enabled=settings.outbox_rate_limits,
    )


def _bound_port(runner: web.AppRunner) -> int | None:
    for site in runner.sites:
        server = getattr(site, "_server", None)
        if server is not None and server.sockets:
            return int(server.sockets[0].getsockname()[1])
    return None


async def _listen(site: web.TCPSite, host: str, port: int, variables: str) -> None:
    """Start listening, or raise one clear line naming the address and what to change."""
    try:
        await site.start()
    except OSError as exc:
        address = f"{host}:{port}"
        if exc.errno == errno.EADDRINUSE:
            why = f"{address} is already in use (another Townhall or another program?)"
            host_too = f"(or {variables}_HOST to another address)"
            change = f"set {variables}_PORT to a free port {host_too}"
        elif exc.errno == errno.EACCES:
            why = f"no permission to listen on {address} (ports below 1024 need privileges)"
            change = f"set {variables}_PORT to 1024 or above"
        else:
            why = f"cannot listen on {address}: {exc.strerror or exc}"
            change = f"check {variables}_HOST and {variables}_PORT"
        raise ConfigError(f"{why}; {change}.") from None
