"""Tagging from the item page: select answers, then apply one theme (one control for the
list); held answers say why they are held, in words."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from bot.config import Settings
from storage.db import Database
from tests.dashboard_support import Client, DashApp, Page, plain, start_dashboard
from tests.support import FakeClock
from tests.test_dashboard_item import audit, theme_counts

PHONE = "Ring me on 07700 900461 about the bins"


@pytest.fixture
async def dash(settings: Settings, db: Database, clock: FakeClock) -> AsyncIterator[DashApp]:
    async for running in start_dashboard(settings, db, clock):
        yield running


async def apply(client: Client, short_id: str, fields: list[tuple[str, str]]) -> Page:
    csrf = await client.csrf(f"/items/{short_id}")
    where = f"/items/{short_id}/answers/themes"
    async with client.http.post(where, data=[("csrf", csrf), *fields]) as response:
        return Page(response.status, response.headers, await response.read())


async def test_one_control_tags_several_answers(dash: DashApp) -> None:
    question = await dash.create('ask "What would improve the high street?"')
    ids = [await dash.answer(question, f"Idea {n}", f"p{n}", "web") for n in range(18)]
    officer = await dash.sign_in("policy")
    page = (await officer.get(f"/items/{question}")).text
    assert page.count('name="new_theme"') == 1 and page.count(">Apply theme") == 1
    assert page.count('name="answers"') == 18

    first, second, third = ids[:3]
    done = await apply(
        officer,
        question,
        [("answers", str(first)), ("answers", str(third)), ("new_theme", "Shops")],
    )
    assert done.status == 200
    assert f"Tagged 2 answers (A{first} and A{third}) “Shops”." in plain(done.text)
    assert theme_counts(done.text) == {"Shops": 2}
    theme_id = re.search(r'<option value="(\d+)">Shops</option>', done.text)
    assert theme_id
    again = await apply(
        officer,
        question,
        [("answers", str(first)), ("answers", str(second)), ("theme_id", theme_id.group(1))],
    )
    assert f"Tagged answer A{second} “Shops”." in plain(again.text)  # the first had it
    assert theme_counts(again.text) == {"Shops": 3}
    tags = await audit(dash, "answer.tag")
    assert [e.target for e in tags] == [f"A{first}", f"A{third}", f"A{second}"]


async def test_bad_selections_are_explained_and_change_nothing(dash: DashApp) -> None:
    question = await dash.create('ask "Ideas?"')
    other = await dash.create('ask "Anything else?"')
    mine = await dash.answer(question, "Benches", "ann", "web")
    elsewhere = await dash.answer(other, "Trees", "bob", "web")
    officer = await dash.sign_in("policy")
    nothing = await apply(officer, question, [("new_theme", "Seating")])
    assert "Select the answers to tag." in plain(nothing.text)
    foreign = await apply(officer, question, [("answers", str(elsewhere)), ("new_theme", "X")])
    assert "Select the answers to tag." in plain(foreign.text)
    junk = await apply(
        officer, question, [("answers", "1e9"), ("answers", "-1"), ("new_theme", "X")]
    )
    assert "Select the answers to tag." in plain(junk.text)
    no_theme = await apply(officer, question, [("answers", str(mine))])
    assert "Choose a theme or enter a new theme name." in plain(no_theme.text)
    long = await apply(officer, question, [("answers", str(mine)), ("new_theme", "x" * 61)])
    assert "60 characters or fewer" in plain(long.text)
    assert theme_counts(long.text) == {}
    assert await audit(dash, "answer.tag") == []
    # No CSRF token: refused before anything happens.
    async with officer.http.post(
        f"/items/{question}/answers/themes", data=[("answers", str(mine)), ("new_theme", "X")]
    ) as response:
        assert response.status == 403
    moderator = await dash.sign_in("moderator")  # tagging is the policy team's
    async with moderator.http.post(
        f"/items/{question}/answers/themes", data=[("answers", str(mine)), ("new_theme", "X")]
    ) as response:
        assert response.status in (403, 404)


async def test_held_answers_say_why_in_words(dash: DashApp) -> None:
    question = await dash.create('ask "Ideas?"')
    held = await dash.answer(question, PHONE, "ann", "web")
    fine = await dash.answer(question, "More benches", "bob", "web")
    officer = await dash.sign_in("policy")
    page = (await officer.get(f"/items/{question}")).text
    block = page[page.index(f'id="answer-{held}"') : page.index(f'id="answer-{fine}"')]
    assert "Held for review" in plain(block) and "Held because: Phone number" in plain(block)
    assert "personal:phone" not in page
    after = page[page.index(f'id="answer-{fine}"') :]
    assert "because" not in plain(after.split("</li>")[0])
