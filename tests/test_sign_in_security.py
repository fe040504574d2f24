"""Sign-in cannot be raced, does not stall the server, and signing out really ends the session."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from dashboard.core import DASHBOARD, SESSION_COOKIE, Dashboard
from storage.db import Database
from tests.browser.conftest import PASSWORD, DashboardApp, start_dashboard_app
from tests.drivers.webchat_kit import Browser, chat_settings
from tests.support import FakeClock
from tests.test_dashboard_auth import Client
from tests.waiting import until

pytestmark = pytest.mark.timeout(120)
WAIT = 30.0


@pytest.fixture
async def dash(db_url: str, db: Database, clock: FakeClock) -> AsyncIterator[DashboardApp]:
    async for running in start_dashboard_app(chat_settings(db_url), db, clock):
        yield running


def dashboard_of(dash: DashboardApp) -> Dashboard:
    runner = dash.app._runner
    assert runner is not None
    return runner.app[DASHBOARD]


async def sign_in(dash: DashboardApp, email: str, password: str) -> int:
    client = Client(dash.base)
    try:
        return (await client.sign_in(email, password)).status
    finally:
        await client.close()


async def test_forty_simultaneous_guesses_cannot_slip_past_the_limit(dash: DashboardApp) -> None:
    email = await dash.account("policy")
    checker = dashboard_of(dash).passwords
    # Hold every verification slot: the guesses that get past the limiter wait there, still
    # unverified, so none has failed yet when the right password arrives.
    for _ in range(checker.workers):
        await checker.slots.acquire()
    wrong = [asyncio.create_task(sign_in(dash, email, f"wrong guess {n:02}")) for n in range(39)]
    # the first five counted go on to wait for a slot; the other 34 are refused at once
    await until(lambda: _refused_and_waiting(wrong))
    right = asyncio.create_task(sign_in(dash, email, PASSWORD))
    assert await asyncio.wait_for(right, WAIT) == 429
    for _ in range(checker.workers):
        checker.slots.release()
    statuses = await asyncio.wait_for(asyncio.gather(*wrong), WAIT)
    assert statuses.count(400) == 5  # only the limit's worth were ever checked
    assert statuses.count(429) == 34
    assert await sign_in(dash, email, PASSWORD) == 429  # five failures: still limited


async def _refused_and_waiting(tasks: list[asyncio.Task[int]]) -> bool:
    return sum(t.done() for t in tasks) == len(tasks) - 5


async def test_sign_ins_do_not_stall_a_vote(dash: DashboardApp) -> None:
    dashboard = dashboard_of(dash)
    dashboard.sign_in_limiter.limit = 1000  # let every one of them reach Argon2
    email = await dash.account("policy")
    poll = await dash.create('poll "Bins on Sundays?" "Yes" "No"')
    browser = Browser(dash.base)
    try:
        page = await browser.get(f"/c/{poll}")
        assert page.status == 200
        signing = [asyncio.create_task(sign_in(dash, email, f"wrong {n:03}")) for n in range(100)]
        await until(lambda: _any_verifying(dashboard.passwords.slots))
        done = await browser.post(
            f"/c/{poll}",
            [
                ("csrf", page.field("csrf")),
                ("sub", page.field("sub")),
                ("intent", "vote"),
                ("choice", "1"),
            ],
        )
        pending_when_voted = sum(not t.done() for t in signing)
        assert done.status == 200 and "is recorded" in done.text
        # the vote did not queue behind the password hashing: most sign-ins are still waiting
        assert pending_when_voted >= 50, pending_when_voted
        statuses = await asyncio.wait_for(asyncio.gather(*signing), 120)
        assert set(statuses) == {400}
    finally:
        await browser.close()


async def _any_verifying(slots: asyncio.Semaphore) -> bool:
    return slots.locked()


async def test_signing_out_revokes_every_copy_of_the_cookie(dash: DashboardApp) -> None:
    client = Client(dash.base)
    try:
        assert (await client.sign_in(await dash.account("policy"))).status == 303
        copied = next(c.value for c in client.http.cookie_jar if c.key == SESSION_COOKIE)
        token = await client.csrf("/items")
        response, _ = await client.post("/sign-out", {"csrf": token})
        assert response.status == 303
    finally:
        await client.close()
    async with (
        aiohttp.ClientSession(base_url=dash.base, cookies={SESSION_COOKIE: copied}) as http,
        http.get("/items", allow_redirects=False) as response,
    ):
        assert response.status == 303
        assert response.headers["Location"].startswith("/sign-in")
