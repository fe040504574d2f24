"""Helpers for the web chat tests (no tests here): a Townhall serving /c/ and an HTTP client."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp

from adapters.web import WebChatAdapter
from bot.config import Settings
from storage.db import Database
from tests.conftest import SECRET
from tests.support import FakeClock, People, RecordingAdapter, publish
from townhall.app import Townhall
from townhall.webchat import page_loader


def chat_settings(db_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": db_url,
        "secret_key": SECRET,
        "policy_team": "test:officer",
        "moderators": "test:mod",
        "refresh_interval": 0,
        "env": "test",
        "http_port": 0,
        "_env_file": None,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@dataclass
class ChatApp:
    app: Townhall
    web: WebChatAdapter
    officer: RecordingAdapter
    people: People

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.app.http_port}"

    async def create(self, command: str) -> str:
        return await publish(self.app, command, people=self.people)

    async def results(self, short_id: str, include_hidden: bool = False) -> dict[str, object]:
        from services import results
        from storage.items import ItemRepository

        async with self.app.db.transaction() as session:
            item = await ItemRepository(session).by_short_id(short_id)
            assert item is not None
            summary = await results.compute(session, item, include_hidden=include_hidden)
            return summary.to_json()


async def start_chat_app(
    settings: Settings, db: Database, clock: FakeClock
) -> AsyncIterator[ChatApp]:
    web = WebChatAdapter(settings, pages=page_loader(db, settings, clock))
    officer = RecordingAdapter()
    extra = _dev_assets()  # TEMPORARY until the shared web foundation serves GOV.UK Frontend
    app = Townhall(settings, [officer, web, *extra], db=db, clock=clock)
    await app.start(serve_http=True, background=False)
    try:
        yield ChatApp(app, web, officer, People())
    finally:
        await app.stop()


@dataclass
class Page:
    status: int
    text: str
    url: str

    def field(self, name: str, form: int = 0) -> str:
        """The value of a hidden input in the n-th form on the page."""
        forms = re.findall(r"<form\b.*?</form>", self.text, re.S)
        found = re.search(rf'name="{name}" value="([^"]*)"', forms[form])
        assert found, f"no {name} in form {form}"
        return html.unescape(found.group(1))

    def form_with(self, text: str) -> int:
        """Index of the first form containing ``text`` (e.g. a button's custom id)."""
        forms = re.findall(r"<form\b.*?</form>", self.text, re.S)
        return next(i for i, f in enumerate(forms) if text in f)

    @property
    def banner(self) -> str:
        found = re.search(r'class="govuk-notification-banner\b.*?</div>\s*</div>', self.text, re.S)
        return _plain(found.group(0)) if found else ""

    @property
    def banners(self) -> str:
        """Every notification banner on the page, as one text."""
        found = re.findall(r'class="govuk-notification-banner\b.*?</div>\s*</div>', self.text, re.S)
        return " ".join(_plain(b) for b in found)

    @property
    def plain(self) -> str:
        return _plain(self.text)


def _plain(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


class Browser:
    """Keeps cookies like a browser (per client), follows POST-redirect-GET."""

    def __init__(self, base: str, accept_language: str = "") -> None:
        """``accept_language``: the languages the browser is set to (``cy,en;q=0.8``)."""
        headers = {"Accept-Language": accept_language} if accept_language else {}
        self.session = aiohttp.ClientSession(
            base_url=base, cookie_jar=aiohttp.CookieJar(unsafe=True), headers=headers
        )

    async def close(self) -> None:
        await self.session.close()

    async def get(self, path: str) -> Page:
        async with self.session.get(path) as response:
            return Page(response.status, await response.text(), str(response.url))

    async def post(
        self, path: str, data: dict[str, str] | list[tuple[str, str]], *, follow: bool = True
    ) -> Page:
        async with self.session.post(path, data=data, allow_redirects=follow) as response:
            return Page(response.status, await response.text(), str(response.url))

    async def submit(
        self, path: str, intent: str, fields: list[tuple[str, str]], form: int = 0
    ) -> Page:
        """Load the page and send its n-th form, as a person filling it in would."""
        page = await self.get(path)
        data = [
            ("csrf", page.field("csrf", form)),
            ("sub", page.field("sub", form)),
            ("intent", intent),
            *fields,
        ]
        return await self.post(path, data)


def _dev_assets() -> list[Any]:
    import os

    root = os.environ.get("WEBCHAT_DEV_ASSETS")
    if not root:
        return []
    from aiohttp import web as aioweb

    from bot.adapter import Capabilities

    class Assets:
        name = "assets"
        capabilities = Capabilities()
        connected = True

        def http_routes(self) -> list[aioweb.RouteDef]:
            async def css(_r: aioweb.Request) -> aioweb.FileResponse:
                return aioweb.FileResponse(f"{root}/govuk-frontend.min.css")

            return [
                aioweb.get("/assets/govuk-frontend.min.css", css),
                aioweb.static("/assets", f"{root}/assets"),
            ]

        async def start(self, _d: object) -> None: ...
        async def stop(self) -> None: ...

    return [Assets()]
