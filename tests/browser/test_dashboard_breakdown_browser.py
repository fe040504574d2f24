"""Results by who took part (issue 19) in headless Chromium, checked with axe: the choice of
question, the suppressed table, and its downloads."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.browser.conftest import DashboardApp, assert_accessible, sign_in
from tests.conftest import SQLITE_ONLY
from tests.test_breakdown import seeded


@SQLITE_ONLY
async def test_an_officer_breaks_results_down_by_island(
    dashboard_app: DashboardApp, new_page: Page
) -> None:
    dash, page = dashboard_app, new_page
    item = await seeded(dash.app)
    await sign_in(page, dash, "policy")
    await page.goto(f"{dash.base}/items/{item.short_id}")
    await page.get_by_label("Break down by").select_option("island")
    await page.get_by_role("button", name="Show breakdown").click()
    table = page.get_by_role("table", name="Which island do you live on?")
    await expect(table).to_be_visible()
    await expect(table.get_by_role("columnheader", name="Late")).to_be_visible()
    await expect(table.get_by_role("row", name="All 67 50 90 207")).to_be_visible()
    await expect(
        table.get_by_role("row", name="Arran").get_by_text("fewer than 10")
    ).to_be_visible()
    await expect(page.get_by_role("link", name="CSV breakdown by island")).to_be_visible()
    await assert_accessible(page)
