"""Helpers for the dashboard's HTTP tests (no tests here): a running app and signed-in clients."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bot.config import Settings
from storage.db import Database
from tests.browser.conftest import PASSWORD, DashboardApp, start_dashboard_app
from tests.drivers.webchat_kit import chat_settings
from tests.support import FakeClock


@dataclass
class Page:
    """One HTTP response, read in full."""

    status: int
    headers: Any
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def location(self) -> str:
        return str(self.headers.get("Location", ""))


@dataclass
class Client:
    """A browser-like client keeping its own cookies; ``subject`` as the audit log names it."""

    http: aiohttp.ClientSession
    email: str = ""

    @property
    def subject(self) -> str:
        return f"dashboard:{self.email}"

    async def get(self, path: str, *, follow: bool = True) -> Page:
        async with self.http.get(path, allow_redirects=follow) as response:
            return Page(response.status, response.headers, await response.read())

    async def raw(self, path: str) -> Page:
        return await self.get(path, follow=False)

    async def post(self, path: str, data: dict[str, str], *, follow: bool = True) -> Page:
        async with self.http.post(path, data=data, allow_redirects=follow) as response:
            return Page(response.status, response.headers, await response.read())

    async def csrf(self, path: str) -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', (await self.get(path)).text)
        assert found, f"no CSRF field on {path}"
        return html.unescape(found.group(1))


def plain(markup: str) -> str:
    """The text a reader sees: tags removed, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


@dataclass
class DashApp:
    running: DashboardApp
    clients: list[Client] = field(default_factory=list)
    emails: dict[str, str] = field(default_factory=dict)

    @property
    def app(self) -> Any:
        return self.running.app

    @property
    def base(self) -> str:
        return self.running.base

    async def create(self, command: str) -> str:
        return await self.running.create(command)

    async def answer(self, short_id: str, text: str, user: str, platform: str = "test") -> int:
        """A citizen's answer; its id (the bot's reference without the A)."""
        return int((await self.running.answer(short_id, text, user, platform))[1:])

    def anonymous(self) -> Client:
        jar = aiohttp.CookieJar(unsafe=True)
        client = Client(aiohttp.ClientSession(base_url=self.base, cookie_jar=jar))
        self.clients.append(client)
        return client

    async def sign_in(self, role: str) -> Client:
        """A client signed in through the form as ``<role>@example.gov.uk`` (created once)."""
        email = self.emails.get(role)
        if email is None:
            email = await self.running.account(role, f"{role}@example.gov.uk")
            self.emails[role] = email
        client = self.anonymous()
        client.email = email
        token = await client.csrf("/sign-in")
        page = await client.post(
            "/sign-in", {"csrf": token, "email": email, "password": PASSWORD}, follow=False
        )
        assert page.status == 303, page.text
        return client

    async def close(self) -> None:
        for client in self.clients:
            await client.http.close()


async def start_dashboard(
    settings: Settings, db: Database, clock: FakeClock
) -> AsyncIterator[DashApp]:
    async for running in start_dashboard_app(chat_settings(settings.database_url), db, clock):
        dash = DashApp(running)
        try:
            yield dash
        finally:
            await dash.close()
