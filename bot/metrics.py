"""Prometheus metrics owned by one running app, not by the process.

Each :class:`Metrics` has its own registry, so two apps in one process (tests, or several
workers started by one supervisor) never share or double-register counters. ``/metrics``
serves the app's registry, with the standard process, platform and GC collectors in it.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    generate_latest,
)

CONTENT_TYPE = CONTENT_TYPE_LATEST


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

    def render(self) -> bytes:
        """The text exposition format of everything in the registry."""
        return generate_latest(self.registry)
