"""The web chat in headless Chromium: vote and answer by mouse and by keyboard, axe, framing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from playwright.async_api import Browser, Page, expect

from storage.db import Database
from tests.browser.conftest import assert_accessible, focus_until
from tests.drivers.webchat_kit import ChatApp, chat_settings, start_chat_app
from tests.support import FakeClock


@pytest.fixture
async def chat(db_url: str, db: Database, clock: FakeClock) -> AsyncIterator[ChatApp]:
    async for running in start_chat_app(chat_settings(db_url), db, clock):
        yield running


@pytest.fixture
def page(new_page: Page) -> Page:
    return new_page


async def votes(chat: ChatApp, short_id: str) -> list[int]:
    result: dict[str, Any] = await chat.results(short_id)
    return [o["votes"] for o in result["options"]]


async def test_vote_and_answer_with_the_mouse(chat: ChatApp, page: Page) -> None:
    poll = await chat.create('poll "Open the library on Sundays?" "Yes" "No" "Unsure"')
    await page.goto(f"{chat.base}/c/{poll}")
    await assert_accessible(page)
    await page.get_by_role("button", name="Send my vote").click()
    await expect(page.get_by_role("link", name="Select one option")).to_be_visible()
    await assert_accessible(page)  # the error summary and error message too
    await page.get_by_label("No").check()
    await page.get_by_role("button", name="Send my vote").click()
    await expect(page.get_by_text("Thanks, your vote for “No” is recorded.")).to_be_visible()
    await expect(page.get_by_role("row", name="No 1 100.0%")).to_be_visible()
    await assert_accessible(page)
    assert await votes(chat, poll) == [0, 1, 0]

    question = await chat.create('ask "What would improve the high street?"')
    await page.goto(f"{chat.base}/c/{question}")
    await assert_accessible(page)
    await page.get_by_label("What would improve the high street?").fill("More benches")
    await page.get_by_role("button", name="Send my answer").click()
    await expect(page.get_by_text("your answer is recorded")).to_be_visible()
    result = await chat.results(question)
    assert result["answers"] == [
        {"text": "More benches", "platform": "web", "status": "visible", "language": "en"}
    ]


async def test_vote_form_works_by_keyboard_alone(chat: ChatApp, page: Page) -> None:
    poll = await chat.create('poll "Open the library on Sundays?" "Yes" "No" "Unsure"')
    await page.goto(f"{chat.base}/c/{poll}")
    await focus_until(page, "input[name=choice]")
    await page.keyboard.press("Space")  # choose the first option
    await page.keyboard.press("ArrowDown")  # radios: arrows move the choice
    await focus_until(page, "button.govuk-button")
    await page.keyboard.press("Enter")
    await expect(page.get_by_text("Thanks, your vote for “No” is recorded.")).to_be_visible()
    assert await votes(chat, poll) == [0, 1, 0]

    multi = await chat.create('poll "Which days?" "Saturday" "Sunday" "Monday" --multi')
    await page.goto(f"{chat.base}/c/{multi}")
    await focus_until(page, "input[name=choice]")
    await page.keyboard.press("Space")  # Saturday
    await page.keyboard.press("Tab")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Space")  # Monday
    await focus_until(page, "button.govuk-button")
    await page.keyboard.press("Enter")
    await expect(page.get_by_text("Added “Monday” to your choices.")).to_be_visible()
    assert await votes(chat, multi) == [1, 0, 1]

    question = await chat.create('ask "Ideas?"')
    await page.goto(f"{chat.base}/c/{question}")
    await focus_until(page, "textarea")
    await page.keyboard.type("Longer opening hours")
    await focus_until(page, "button.govuk-button")
    await page.keyboard.press("Enter")
    await expect(page.get_by_text("your answer is recorded")).to_be_visible()


async def test_results_change_as_others_vote(chat: ChatApp, chromium: Browser) -> None:
    poll = await chat.create('poll "Q?" "A" "B"')
    pages = []
    for _ in range(3):
        context = await chromium.new_context()  # three people, three cookie jars
        pages.append(await context.new_page())
    try:
        for n, page in enumerate(pages):
            await page.goto(f"{chat.base}/c/{poll}")
            await page.get_by_label("A" if n < 2 else "B", exact=True).check()
            await page.get_by_role("button", name="Send my vote").click()
            await expect(page.get_by_text("is recorded")).to_be_visible()
        await pages[0].reload()
        await expect(pages[0].get_by_role("row", name="A 2 66.7%")).to_be_visible()
        await expect(pages[0].get_by_role("row", name="B 1 33.3%")).to_be_visible()
    finally:
        for page in pages:
            await page.context.close()
    result = await chat.results(poll)
    assert result["participants"] == 3 and result["by_platform"] == {"web": 3}


async def test_closed_and_missing_pages_are_accessible(chat: ChatApp, page: Page) -> None:
    poll = await chat.create('poll "Q?" "A" "B"')
    await chat.app.dispatch(chat.people.command("officer", f"close {poll}"))
    await page.goto(f"{chat.base}/c/{poll}")
    await expect(
        page.get_by_text("This item is closed. Thank you for taking part.")
    ).to_be_visible()
    await assert_accessible(page)
    response = await page.goto(f"{chat.base}/c/nosuch")
    assert response is not None and response.status == 404
    await assert_accessible(page)


async def test_the_chat_works_inside_an_iframe(chat: ChatApp, page: Page) -> None:
    from adapters.web.links import embed_snippet

    poll = await chat.create('poll "Open the library on Sundays?" "Yes" "No"')
    host = web.Application()

    async def embedding(_request: web.Request) -> web.Response:
        snippet = embed_snippet(poll, chat.base, title="Library consultation")
        body = f"<!DOCTYPE html><html lang=en><title>Council news</title><h1>News</h1>{snippet}"
        return web.Response(text=body, content_type="text/html")

    host.router.add_get("/", embedding)
    runner = web.AppRunner(host)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        response = await page.goto(f"http://127.0.0.1:{port}/")
        assert response is not None and response.ok
        frame = page.frame_locator("iframe[title='Library consultation']")
        await frame.get_by_label("Yes").check()
        await frame.get_by_role("button", name="Send my vote").click()
        await expect(frame.get_by_text("Thanks, your vote for “Yes” is recorded.")).to_be_visible()
    finally:
        await runner.cleanup()
    assert await votes(chat, poll) == [1, 0]


async def test_the_web_chat_in_welsh_passes_axe_and_switches(chat: ChatApp, page: Page) -> None:
    """Issue 18: a browser set to Welsh gets the page in Welsh (``<html lang="cy">``, the scale
    labels too) from the first view; the vote counts with the English ones; the page's switch
    turns it to English and is remembered."""
    scale = await chat.create('scale "Should the library open on Sundays?"')
    await page.set_extra_http_headers({"Accept-Language": "cy-GB,cy;q=0.9,en;q=0.5"})
    await page.goto(f"{chat.base}/c/{scale}")
    await expect(page.locator("html")).to_have_attribute("lang", "cy")
    await expect(page.get_by_text("Neidio i’r prif gynnwys")).to_be_attached()
    # the policy team's question has no Welsh: marked English for screen readers
    question = page.locator('legend [lang="en"]')
    await expect(question).to_have_text("Should the library open on Sundays?")
    await assert_accessible(page)
    await page.get_by_role("button", name="Anfon fy mhleidlais").click()
    await expect(page.get_by_role("link", name="Dewiswch un opsiwn")).to_be_visible()
    await assert_accessible(page)  # the Welsh error summary too
    await page.get_by_label("Cytuno’n gryf").check()
    await page.get_by_role("button", name="Anfon fy mhleidlais").click()
    await expect(page.get_by_text("wedi’i chofnodi").first).to_be_visible()
    await expect(page.locator("html")).to_have_attribute("lang", "cy")
    await assert_accessible(page)
    options = (await chat.results(scale))["options"]
    assert {o["label"]: o["votes"] for o in options}["Strongly agree"] == 1  # type: ignore[index]

    english = page.get_by_role("button", name="English")
    await expect(english).to_have_attribute("lang", "en")
    await english.click()
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(
        page.get_by_text("From now on Townhall will write to you in English.")
    ).to_be_visible()
    await page.goto(f"{chat.base}/c/{scale}")  # remembered, though the browser still says cy
    await expect(page.get_by_role("button", name="Change my vote")).to_be_visible()
    await expect(page.get_by_role("button", name="Cymraeg")).to_have_attribute("lang", "cy")
    await assert_accessible(page)
