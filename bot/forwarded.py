"""The visitor's address behind a reverse proxy (``TOWNHALL_TRUSTED_PROXIES``).

Behind Caddy or nginx every request comes from the proxy, so per-address limits (sign-in, the
web chat) would count all visitors together. When the peer is a trusted proxy, the address the
proxy saw — the last ``X-Forwarded-For`` hop — becomes ``request.remote``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # aiohttp only where the HTTP server runs: settings validation is imported
    from aiohttp import web  # by every CLI command (parse_networks), and start-up matters there
    from aiohttp.typedefs import Middleware

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(value: str) -> list[Network]:
    """``127.0.0.1, 10.0.0.0/8`` -> networks; raises ValueError naming a bad entry."""
    networks: list[Network] = []
    for part in (p.strip() for p in value.split(",")):
        if part:
            try:
                networks.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                raise ValueError(f"{part!r} is not an IP address or network") from None
    return networks


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def trusted_proxies(networks: list[Network]) -> list[Middleware]:
    """A middleware taking the client address from trusted proxies; none when none trusted."""
    if not networks:
        return []
    from aiohttp import web

    @web.middleware
    async def forwarded_for(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        peer = _address(request.remote or "")
        hops = request.headers.get("X-Forwarded-For", "")
        if peer is not None and hops and any(peer in net for net in networks):
            client = _address(hops.split(",")[-1])
            if client is not None:
                request = request.clone(remote=str(client))
        return await handler(request)

    return [forwarded_for]
