"""Dashboard sign-in, sessions, roles, CSRF, rate limits, security headers and assets (HTTP)."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, select

from storage.db import Database
from storage.models import AuditEntry, Item
from tests.browser.conftest import PASSWORD, DashboardApp, start_dashboard_app
from tests.drivers.webchat_kit import chat_settings
from tests.support import FakeClock

FONT = sorted(
    p.name for p in Path("node_modules/govuk-frontend/dist/govuk/assets/fonts").iterdir()
)[0]
PAGES = ["/", "/items", "/items/new", "/items/ABCDEF", "/moderation", "/audit", "/export.csv"]


@pytest.fixture
async def dash(db_url: str, db: Database, clock: FakeClock) -> AsyncIterator[DashboardApp]:
    async for running in start_dashboard_app(chat_settings(db_url), db, clock):
        yield running


class Client:
    """A browser-like client: keeps cookies, does not follow redirects unless asked."""

    def __init__(self, base: str) -> None:
        self.http = aiohttp.ClientSession(base_url=base, cookie_jar=aiohttp.CookieJar(unsafe=True))

    async def close(self) -> None:
        await self.http.close()

    async def get(self, path: str) -> tuple[aiohttp.ClientResponse, str]:
        async with self.http.get(path, allow_redirects=False) as response:
            return response, (await response.read()).decode("utf-8", "replace")

    async def post(self, path: str, data: dict[str, str]) -> tuple[aiohttp.ClientResponse, str]:
        async with self.http.post(path, data=data, allow_redirects=False) as response:
            return response, await response.text()

    async def csrf(self, path: str) -> str:
        _response, body = await self.get(path)
        found = re.search(r'name="csrf" value="([^"]+)"', body)
        assert found, body
        return html.unescape(found.group(1))

    async def sign_in(self, email: str, password: str = PASSWORD) -> aiohttp.ClientResponse:
        token = await self.csrf("/sign-in")
        response, _ = await self.post(
            "/sign-in", {"csrf": token, "email": email, "password": password}
        )
        return response


@pytest.fixture
async def client(dash: DashboardApp) -> AsyncIterator[Client]:
    c = Client(dash.base)
    yield c
    await c.close()


async def item_count(dash: DashboardApp) -> int:
    async with dash.app.db.transaction() as session:
        return int((await session.execute(select(func.count(Item.id)))).scalar_one())


async def test_signed_out_visitors_are_sent_to_sign_in(client: Client) -> None:
    for path in PAGES:
        response, _ = await client.get(path)
        assert response.status == 303, path
        location = response.headers["Location"]
        assert location.startswith("/sign-in"), path
        if path != "/":
            assert location == "/sign-in?next=" + path
    response, body = await client.get("/sign-in")
    assert response.status == 200
    assert "<title>Sign in – Townhall</title>" in body


async def test_each_role_lands_on_its_home_page(dash: DashboardApp, client: Client) -> None:
    policy = await dash.account("policy")
    response = await client.sign_in(policy)
    assert response.status == 303 and response.headers["Location"] == "/items"
    response, _ = await client.get("/")
    assert response.headers["Location"] == "/items"

    other = Client(dash.base)
    try:
        moderator = await dash.account("moderator")
        response = await other.sign_in(moderator.upper())  # emails are not case-sensitive
        assert response.headers["Location"] == "/moderation"
        for path in ("/items", "/items/new"):
            response, body = await other.get(path)
            assert response.status == 403, path
            assert "You do not have access to this page" in body
    finally:
        await other.close()

    async with dash.app.db.transaction() as session:
        query = select(AuditEntry.action, AuditEntry.actor, AuditEntry.target)
        actions = (await session.execute(query)).all()
    # The account is named the same way as actor and target, and as `townhall users` names it.
    assert ("staff.sign_in", f"dashboard:{policy}", f"dashboard:{policy}") in actions


async def test_wrong_password_and_unknown_email_look_the_same(
    dash: DashboardApp, client: Client
) -> None:
    email = await dash.account("policy")
    for who, password in ((email, "not the password at all"), ("nobody@example.gov.uk", PASSWORD)):
        token = await client.csrf("/sign-in")
        response, body = await client.post(
            "/sign-in", {"csrf": token, "email": who, "password": password}
        )
        assert response.status == 400
        assert "Enter a correct email address and password" in body
        assert "There is a problem" in body
        assert "townhall_session" not in response.cookies


async def test_next_only_goes_to_this_site(dash: DashboardApp, client: Client) -> None:
    email = await dash.account("policy")
    for target, expected in (("/items/new", "/items/new"), ("//evil.example/x", "/items")):
        other = Client(dash.base)
        try:
            token = await other.csrf("/sign-in")
            response, _ = await other.post(
                "/sign-in", {"csrf": token, "email": email, "password": PASSWORD, "next": target}
            )
            assert response.headers["Location"] == expected
        finally:
            await other.close()


async def test_posts_without_a_valid_token_are_refused(dash: DashboardApp, client: Client) -> None:
    email = await dash.account("policy")
    response, _ = await client.post("/sign-in", {"email": email, "password": PASSWORD})
    assert response.status == 403
    assert "townhall_session" not in response.cookies

    assert (await client.sign_in(email)).status == 303
    form = {"kind": "scale", "question": "Sundays?", "channel": "web|public|", "results": "live"}
    for token in ("", "forged", await Client(dash.base).csrf("/sign-in")):
        response, _ = await client.post("/items/new", {**form, "csrf": token})
        assert response.status == 403
    response, _ = await client.post("/sign-out", {})
    assert response.status == 403
    assert await item_count(dash) == 0
    response, _ = await client.get("/items")
    assert response.status == 200  # still signed in

    token = await client.csrf("/items/new")
    response, body = await client.post("/items/new", {**form, "csrf": token})
    assert response.status == 303, body
    assert await item_count(dash) == 1


async def test_sign_out_ends_the_session(dash: DashboardApp, client: Client) -> None:
    await client.sign_in(await dash.account("admin"))
    token = await client.csrf("/items")
    response, _ = await client.post("/sign-out", {"csrf": token})
    assert response.status == 303 and response.headers["Location"] == "/sign-in"
    response, body = await client.get("/sign-in")
    assert "You have signed out." in body
    response, _ = await client.get("/items")
    assert response.status == 303


async def test_a_new_password_signs_people_out(dash: DashboardApp, client: Client) -> None:
    from dashboard.passwords import hash_password
    from storage.accounts import AccountRepository

    email = await dash.account("policy")
    await client.sign_in(email)
    assert (await client.get("/items"))[0].status == 200
    async with dash.app.db.transaction() as session:
        accounts = AccountRepository(session)
        user = await accounts.by_email(email)
        assert user is not None
        await accounts.set_password(user, hash_password("another long password"))
    assert (await client.get("/items"))[0].status == 303


async def test_failed_sign_ins_are_rate_limited(dash: DashboardApp, client: Client) -> None:
    email = await dash.account("policy")
    for _ in range(5):
        token = await client.csrf("/sign-in")
        response, _ = await client.post(
            "/sign-in", {"csrf": token, "email": email, "password": "wrong password!"}
        )
        assert response.status == 400
    response = await client.sign_in(email)  # even the right password now waits
    assert response.status == 429
    other = await dash.account("policy")
    response = await client.sign_in(other)  # and any account from this address
    assert response.status == 429
    _, body = await client.get("/items")
    assert body == ""  # a redirect: still signed out
    token = await client.csrf("/sign-in")
    response, body = await client.post(
        "/sign-in", {"csrf": token, "email": email, "password": PASSWORD}
    )
    assert "Too many failed attempts to sign in. Wait 15 minutes" in body


def test_form_becomes_a_parsed_command_without_quoting() -> None:
    from dashboard.pages.items import NewItemForm, command_for

    form = NewItemForm(
        kind="multi",
        question='It’s "quoted" --closes 1h; rm -rf',
        options="'A'\n--multi\n  spaced   out  \n",
        closes="2d",
    )
    command = command_for(form)
    assert command.name == "poll"
    assert command.args[0] == 'It\'s "quoted" --closes 1h; rm -rf'
    assert command.args[1:] == ("'A'", "--multi", "spaced   out")  # the handler tidies spaces
    assert command.flags == {"multi"}
    assert command.options == {"results": "live", "closes": "2d"}


async def test_session_cookie_flags(dash: DashboardApp, client: Client) -> None:
    response = await client.sign_in(await dash.account("policy"))
    cookie = response.cookies["townhall_session"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"
    assert cookie["max-age"] == str(8 * 60 * 60)
    assert not cookie["secure"]  # plain http in tests


async def test_cookies_are_secure_behind_an_https_public_url(
    db_url: str, db: Database, clock: FakeClock
) -> None:
    settings = chat_settings(db_url, public_url="https://townhall.example.gov.uk/")
    assert settings.public_url == "https://townhall.example.gov.uk"
    async for running in start_dashboard_app(settings, db, clock):
        email = await running.account("policy")
        # A browser keeps Secure cookies from plain http; aiohttp's client does not: by hand.
        async with aiohttp.ClientSession(
            base_url=running.base, cookie_jar=aiohttp.DummyCookieJar()
        ) as http:
            async with http.get("/sign-in") as response:
                pre = response.cookies["townhall_csrf"]
                assert pre["secure"] and pre["httponly"]
                body = await response.text()
            token = html.unescape(re.findall(r'name="csrf" value="([^"]+)"', body)[0])
            async with http.post(
                "/sign-in",
                data={"csrf": token, "email": email, "password": PASSWORD},
                headers={"Cookie": f"townhall_csrf={pre.value}"},
                allow_redirects=False,
            ) as response:
                assert response.status == 303
                assert response.cookies["townhall_session"]["secure"]


async def test_security_headers(dash: DashboardApp, client: Client) -> None:
    for path in ("/sign-in", "/items", "/healthz", "/nowhere"):
        response, _ = await client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, path
        assert response.headers["X-Frame-Options"] == "DENY", path
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
    poll = await dash.create('poll "Q?" "A" "B"')
    response, _ = await client.get(f"/c/{poll}")
    assert response.status == 200
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in response.headers
    response, _ = await client.get("/sign-in")
    assert response.headers["Cache-Control"] == "no-store"


async def test_assets_and_static_files_are_served(client: Client) -> None:
    response, css = await client.get("/assets/govuk-frontend.min.css")
    assert response.status == 200 and response.content_type == "text/css"
    assert "govuk-" in css
    response, _ = await client.get("/assets/govuk-frontend.min.js")
    assert response.status == 200 and "javascript" in response.content_type
    response, _ = await client.get(f"/assets/fonts/{FONT}")
    assert response.status == 200
    assert "max-age=31536000" in response.headers["Cache-Control"]
    response, _ = await client.get("/assets/images/favicon.svg")
    assert response.status == 200
    response, _ = await client.get("/favicon.ico")  # asked for by browsers whatever we link
    assert response.status == 200 and "icon" in response.content_type
    response, _ = await client.get("/assets/manifest.json")
    assert response.status == 200
    response, js = await client.get("/static/dashboard.js")
    assert response.status == 200 and "initAll" in js
    for path in ("/static/..%2fcore.py", "/static/.hidden", "/assets/fonts/..%2f..%2fpackage.json"):
        response, _ = await client.get(path)
        assert response.status == 404, path


def test_missing_assets_warn_once_and_pages_still_work() -> None:
    from structlog.testing import capture_logs

    from bot.http import asset_routes

    with capture_logs() as logs:
        routes = asset_routes(None, static_dir=Path("static"))
    assert [r.path for r in routes if isinstance(r, web.RouteDef)] == ["/static/{name}"]
    assert len(logs) == 1 and "npm ci" in logs[0]["event"]


def test_new_settings_are_validated(tmp_path: Path) -> None:
    from bot.config import ConfigError, load_settings

    with pytest.raises(ConfigError, match="TOWNHALL_PUBLIC_URL"):
        load_settings(public_url="townhall.example", _env_file=None)
    with pytest.raises(ConfigError, match="TOWNHALL_ASSETS_DIR"):
        load_settings(assets_dir=str(tmp_path / "missing"), _env_file=None)
    settings = load_settings(assets_dir=str(tmp_path), public_url="", _env_file=None)
    assert settings.govuk_assets == tmp_path and settings.public_url is None
