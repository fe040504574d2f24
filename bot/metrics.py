"""Prometheus metrics owned by one running app, and where ``/metrics`` is served.

Each :class:`Metrics` has its own registry, so two apps in one process (tests, or several
workers started by one supervisor) never share or double-register counters.

``/metrics`` is never open to the public (issue 14): with ``TOWNHALL_METRICS_PORT`` set it is
served on a listener of its own (``TOWNHALL_METRICS_HOST``, default 127.0.0.1) and not on the
public server; with ``TOWNHALL_METRICS_TOKEN`` set it needs ``Authorization: Bearer <token>``
wherever it is served. With neither, it is not served at all.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog
from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from bot.config import Settings

log = structlog.get_logger("townhall.metrics")

PATH = "/metrics"

CONTENT_TYPE = CONTENT_TYPE_LATEST

M = TypeVar("M", Counter, Histogram)


class Metrics:
    """The counters Townhall keeps, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        # The process-wide collectors only read the process; sharing them is harmless.
        for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
            self.registry.register(collector)
        self.events = Counter(
            "townhall_events_total",
            "Platform events dispatched",
            ["platform", "kind", "outcome"],
            registry=self.registry,
        )
        self.deliveries = Counter(
            "townhall_deliveries_total",
            "Outbox deliveries attempted",
            ["platform", "result"],
            registry=self.registry,
        )

        self.batch_size = Histogram(
            "townhall_vote_batch_size",
            "Vote clicks written per grouped transaction",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
            registry=self.registry,
        )
        self.batch_seconds = Histogram(
            "townhall_vote_batch_seconds",
            "Time to write and commit one batch of vote clicks",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=self.registry,
        )

        self.commit_seconds = Histogram(
            "townhall_vote_batch_commit_seconds",
            "Time the COMMIT of one batch of vote clicks took",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
            registry=self.registry,
        )
        self.ack_seconds = Histogram(
            "townhall_ack_seconds",
            "From an event's arrival to its outcome (the moment the adapter may acknowledge)",
            ["platform", "kind"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=self.registry,
        )
        self.outbox_depth = Gauge(
            "townhall_outbox_pending",
            "Outbox messages waiting to be delivered (read when /metrics is scraped)",
            registry=self.registry,
        )
        self.outbox_age = Gauge(
            "townhall_outbox_oldest_pending_seconds",
            "Age of the oldest outbox message waiting to be delivered (0 when none)",
            registry=self.registry,
        )
        self.platform_errors = Counter(
            "townhall_platform_errors_total",
            "Failed platform calls of the outbox, by the platform's own error code",
            ["platform", "code"],
            registry=self.registry,
        )
        #: Called before each scrape to read what lives in the database (the outbox gauges).
        self.before_scrape: Callable[[], Awaitable[None]] | None = None
        self._children: dict[tuple[int, tuple[str, ...]], Counter | Histogram] = {}

    def child(self, metric: M, *labels: str) -> M:
        """``metric.labels(*labels)``, looked up once per label set: prometheus_client checks
        and joins the labels on every ``labels()`` call, which showed in the vote path's
        profile (one event counted and one latency observed per click)."""
        key = (id(metric), labels)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*labels)
        return found  # type: ignore[return-value]  # the same kind as ``metric``

    def batch(self, size: int, seconds: float) -> None:
        """One committed batch of the grouped write path."""
        self.batch_size.observe(size)
        self.batch_seconds.observe(seconds)

    def outbox(self, pending: int, oldest_seconds: float) -> None:
        self.outbox_depth.set(pending)
        self.outbox_age.set(oldest_seconds)

    async def scrape(self) -> bytes:
        """Refresh the gauges read from the database (a failure leaves them as they were),
        then render."""
        if self.before_scrape is not None:
            try:
                await self.before_scrape()
            except Exception as exc:  # the database is down: /metrics still answers
                log.warning("metrics: outbox gauges not refreshed", error=type(exc).__name__)
        return self.render()

    def render(self) -> bytes:
        """The text exposition format of everything in the registry."""
        return generate_latest(self.registry)


def metrics_route(registry: Metrics, token: str | None) -> web.RouteDef:
    expected = f"Bearer {token}".encode() if token else None

    async def metrics(request: web.Request) -> web.Response:
        if expected is not None:
            given = request.headers.get("Authorization", "").encode()
            if not hmac.compare_digest(given, expected):
                return web.Response(
                    status=401,
                    text="401 Unauthorized: send Authorization: Bearer <TOWNHALL_METRICS_TOKEN>",
                    headers={"WWW-Authenticate": 'Bearer realm="townhall metrics"'},
                )
        body = await registry.scrape()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    return web.get(PATH, metrics)


def _token(settings: Settings) -> str | None:
    return settings.metrics_token.get_secret_value() if settings.metrics_token else None


def public_routes(settings: Settings, registry: Metrics) -> list[web.RouteDef]:
    """The metrics route for the public server: only behind a token, only without a port."""
    if settings.metrics_port is None and settings.metrics_token is not None:
        return [metrics_route(registry, _token(settings))]
    return []


def private_app(settings: Settings, registry: Metrics) -> web.Application | None:
    """The separate metrics listener's application, when ``TOWNHALL_METRICS_PORT`` is set."""
    if settings.metrics_port is None:
        return None
    app = web.Application()
    app.router.add_routes([metrics_route(registry, _token(settings))])
    return app


def describe(settings: Settings, base: str, port: int | None = None) -> str:
    """Where metrics are, for ``townhall run``'s start-up lines."""
    if settings.metrics_port is not None:
        where = f"http://{settings.metrics_host}:{port or settings.metrics_port}{PATH}"
        return where + (" (bearer token)" if settings.metrics_token else "")
    if settings.metrics_token is not None:
        return f"{base}{PATH} (bearer token: TOWNHALL_METRICS_TOKEN)"
    return "off (set TOWNHALL_METRICS_PORT for a private listener, or TOWNHALL_METRICS_TOKEN)"
