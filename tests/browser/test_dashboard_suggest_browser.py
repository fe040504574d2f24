"""Suggested themes in headless Chromium: from the item page to accepted themes, with axe."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.browser.conftest import DashboardApp, assert_accessible, sign_in
from tests.test_themes import labelled


async def test_officer_reviews_and_accepts_suggested_themes(
    dashboard_app: DashboardApp, new_page: Page
) -> None:
    dash, page = dashboard_app, new_page
    question = await dash.create('ask "How could the library service be improved?"')
    for n, (text, _) in enumerate(labelled()["libraries"]):
        await dash.answer(question, text, f"p{n}", "web")
    await sign_in(page, dash, "policy")
    await page.goto(f"{dash.base}/items/{question}")
    await page.get_by_role("button", name="Suggest themes").click()
    await expect(page.get_by_role("heading", level=1, name="Suggested themes")).to_be_visible()
    await expect(page.locator("#suggest-summary")).to_contain_text("42 visible answers")
    await assert_accessible(page)

    first = page.get_by_role("textbox", name="Theme name for suggestion 1")
    await first.fill("Opening hours")
    await page.get_by_role("checkbox", name="Accept suggestion 2 as a theme").uncheck()
    cards = await page.locator(".th-suggestion").count()
    await page.get_by_role("button", name="Accept the ticked suggestions").click()
    await expect(
        page.get_by_text(re.compile(r"Accepted the themes “Opening hours”"))
    ).to_be_visible()
    rows = page.locator("#themes-table tbody tr")
    await expect(rows).to_have_count(cards - 1)
    await expect(rows.filter(has_text="Opening hours")).to_have_count(1)
    await assert_accessible(page)
