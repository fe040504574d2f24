"""Shared browser fixtures: Chromium, Townhall with the dashboard and web chat, sign-in, axe."""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, async_playwright, expect

from adapters.web import WebChatAdapter
from bot.config import Settings
from storage.db import Database
from tests.drivers.webchat_kit import chat_settings
from tests.support import FakeClock, People, RecordingAdapter, answer_ref, publish
from townhall.app import Townhall
from townhall.webchat import page_loader

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PASSWORD = "correct horse battery staple"
_accounts = itertools.count(1)


@dataclass
class DashboardApp:
    """A running Townhall with the dashboard, the web chat and a recording "test" platform."""

    app: Townhall
    web: WebChatAdapter
    test: RecordingAdapter
    people: People = field(default_factory=People)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.app.http_port}"

    async def create(self, command: str, user: str = "officer") -> str:
        """Publish an item as a policy officer in chat; its short id."""
        return await publish(self.app, command, user, self.people)

    async def answer(self, short_id: str, text: str, user: str, platform: str = "test") -> str:
        """A citizen's answer from ``platform``; its reference (``A12``)."""
        return await answer_ref(self.app, short_id, text, user, platform)

    async def account(self, role: str, email: str | None = None, password: str = PASSWORD) -> str:
        """Create a dashboard account; its email address."""
        from dashboard.passwords import hash_password
        from storage.accounts import AccountRepository

        email = email or f"{role}{next(_accounts)}@example.gov.uk"
        async with self.app.db.transaction() as session:
            await AccountRepository(session).add(
                email, hash_password(password), role, self.app.clock()
            )
        return email


async def start_dashboard_app(
    settings: Settings, db: Database, clock: FakeClock
) -> AsyncIterator[DashboardApp]:
    from dashboard import install

    web = WebChatAdapter(settings, pages=page_loader(db, settings))
    test = RecordingAdapter()
    app = Townhall(settings, [test, web], db=db, clock=clock, web_extensions=[install])
    await app.start(serve_http=True, background=False)
    try:
        yield DashboardApp(app, web, test)
    finally:
        await app.stop()


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield browser
        await browser.close()


@pytest.fixture
async def dashboard_app(db_url: str, db: Database, clock: FakeClock) -> AsyncIterator[DashboardApp]:
    async for running in start_dashboard_app(chat_settings(db_url), db, clock):
        yield running


@pytest.fixture
async def new_page(chromium: Browser) -> AsyncIterator[Page]:
    context = await chromium.new_context()
    page = await context.new_page()
    page.set_default_timeout(10_000)
    yield page
    await context.close()


async def sign_in(page: Page, app: DashboardApp, role: str) -> str:
    """Create an account with ``role`` and sign in through the form; its email address."""
    email = await app.account(role)
    await page.goto(f"{app.base}/sign-in")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("button", name=re.compile("^Sign out"))).to_be_visible()
    return email


async def assert_accessible(page: Page) -> None:
    """axe-core finds no WCAG 2.2 A or AA violation on the page as it is now."""
    results = await Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
    assert results.violations_count == 0, results.generate_report()


async def focus_until(page: Page, selector: str, tabs: int = 25) -> None:
    """Press Tab until the element matching ``selector`` has focus (bounded)."""
    for _ in range(tabs):
        await page.keyboard.press("Tab")
        if await page.evaluate(f"document.activeElement.matches({selector!r})"):
            return
    raise AssertionError(f"{selector} never got focus by Tab")
