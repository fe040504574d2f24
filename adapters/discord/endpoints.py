"""Per-client Discord URLs (``TOWNHALL_DISCORD_API_URL`` / ``_GATEWAY_URL``), no process state.

discord.py builds every REST URL from the class attribute ``Route.BASE`` and opens the gateway
at the class attribute ``DiscordWebSocket.DEFAULT_GATEWAY``. Setting those would point every
client in the process at one place (two adapters, or a worker's tests, would fight over them).
Instead each client gets:

* an :class:`HTTPClient` that rebases the REST URLs and the gateway URL it is handed, and
* an interaction-response adapter (discord.py picks it from the ``async_context`` context
  variable) that rebases the callback URLs; :meth:`Endpoints.enter` sets it for the calling
  task and the tasks it starts (the client's gateway task and its event handlers), only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import aiohttp
import discord.gateway
import discord.http
import yarl
from discord.webhook.async_ import AsyncWebhookAdapter, async_context


def api_base(url: str) -> str:
    """``TOWNHALL_DISCORD_API_URL`` → a REST base; ``/api/v10`` is added when missing."""
    url = url.rstrip("/")
    return url if re.search(r"/api/v\d+$", url) else f"{url}/api/v10"


@dataclass(frozen=True)
class Endpoints:
    """Where one client talks to: a REST base (``…/api/v10``) and a gateway, each optional."""

    api: str | None = None
    gateway: str | None = None

    @classmethod
    def from_urls(cls, api_url: str | None, gateway_url: str | None) -> Endpoints | None:
        if not api_url and not gateway_url:
            return None
        return cls(api_base(api_url) if api_url else None, gateway_url or None)

    def rest(self, url: str) -> str:
        """``url`` moved from discord.py's REST base onto ours (others left alone)."""
        default = discord.http.Route.BASE
        if self.api is None or not url.startswith(default):
            return url
        return self.api + url[len(default) :]

    def websocket(self, url: str) -> str:
        """The default gateway moved onto ours, keeping discord.py's query (version,
        encoding, compression). A ``resume_gateway_url`` from READY is used as given."""
        if self.gateway is None:
            return url
        given, default = yarl.URL(url), discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
        if (given.scheme, given.host, given.port) != (default.scheme, default.host, default.port):
            return url
        return str(yarl.URL(self.gateway).with_query(given.query))

    def http_client(self, **options: Any) -> HTTPClient:
        return HTTPClient(self, **options)

    def enter(self) -> None:
        """Answer interactions through our REST base in this task and the tasks it starts."""
        if self.api is not None:
            async_context.set(WebhookAdapter(self))


class HTTPClient(discord.http.HTTPClient):
    """discord.py's HTTP client, with its REST and gateway URLs rebased per instance."""

    def __init__(self, endpoints: Endpoints, **options: Any) -> None:
        super().__init__(**options)
        self.endpoints = endpoints

    async def request(self, route: discord.http.Route, **kwargs: Any) -> Any:
        route.url = self.endpoints.rest(route.url)
        return await super().request(route, **kwargs)

    async def ws_connect(self, url: str, *, compress: int = 0) -> aiohttp.ClientWebSocketResponse:
        return await super().ws_connect(self.endpoints.websocket(url), compress=compress)


class WebhookAdapter(AsyncWebhookAdapter):
    """Interaction responses and follow-ups (webhook routes) through our REST base."""

    def __init__(self, endpoints: Endpoints) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.endpoints = endpoints

    async def request(
        self, route: discord.http.Route, session: aiohttp.ClientSession, **kwargs: Any
    ) -> Any:
        route.url = self.endpoints.rest(route.url)
        return await super().request(route, session, **kwargs)
