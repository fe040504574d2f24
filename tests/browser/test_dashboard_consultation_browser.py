"""The consultation page and the upload form in headless Chromium, checked with axe."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Page, expect

from storage.consultations import ConsultationRepository
from tests.browser.conftest import DashboardApp, assert_accessible, sign_in
from tests.browser.test_pages_layout_browser import WIDTHS, no_overflow
from tests.support import People

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


async def test_an_officer_uploads_a_consultation_and_reads_its_page(
    dashboard_app: DashboardApp, new_page: Page
) -> None:
    dash, page = dashboard_app, new_page
    await sign_in(page, dash, "policy")
    await page.goto(f"{dash.base}/items")
    menu = page.get_by_role("navigation", name="Menu")
    await menu.get_by_role("link", name="Consultations").click()
    await expect(page.get_by_role("heading", level=1, name="Consultations")).to_be_visible()
    await assert_accessible(page)
    await page.get_by_label("Consultation file").set_input_files(EXAMPLES / "dental-bill.yaml")
    await page.get_by_label("Clause documents (optional)").set_input_files(
        EXAMPLES / "dental-bill.md"
    )
    await page.get_by_role("button", name="Load the consultation").click()
    await expect(
        page.get_by_role("heading", level=1, name="Draft Dental Services Bill")
    ).to_be_visible()
    await expect(page.get_by_text("Loaded dental-bill (version 1, 15 items)")).to_be_visible()

    async with dash.app.db.transaction() as session:
        found = await ConsultationRepository(session).latest("dental-bill")
        assert found is not None
        found.status = "open"  # as `publish dental-bill` in chat would: a draft takes no answers
        items = list(await ConsultationRepository(session).items(found))
    clause, regulation = items[1], items[9]
    await dash.app.dispatch(People("slack").click("ann", clause.short_id, 2))
    await dash.app.dispatch(People("slack").click("ann", regulation.short_id, 3))
    await dash.app.dispatch(People("telegram").click("bob", clause.short_id, 1))
    await page.reload()
    funnel = page.get_by_role("img", name=re.compile("^Bar chart of progress"))
    await expect(funnel).to_be_visible()
    await expect(page.get_by_role("row", name="Started 2 100.0%")).to_be_visible()
    await expect(
        page.get_by_role("row", name="1 Clause 1: Duty to commission 1 2 50.0%")
    ).to_be_visible()
    await expect(
        page.get_by_role(
            "row",
            name="The Dental Records (Retention) Regulations 2009 0 (0.0%) 0 (0.0%) 1 (100.0%) 1 0",
        )
    ).to_be_visible()
    table = page.get_by_role("table", name=re.compile("^Ratings of each regulation"))
    await expect(table.get_by_role("columnheader", name="Keep as is")).to_be_visible()
    await assert_accessible(page)
    # Each item links to its own page, with its answers and tools.
    await page.get_by_role("link", name="Clause 1: Duty to commission").first.click()
    await expect(
        page.get_by_role("heading", level=1, name="Clause 1: Duty to commission")
    ).to_be_visible()


async def test_a_bad_file_is_refused_with_its_line_in_an_accessible_error(
    dashboard_app: DashboardApp, new_page: Page, tmp_path: Path
) -> None:
    dash, page = dashboard_app, new_page
    bad = tmp_path / "bill.yaml"
    bad.write_text("slug: bill\ntitle: A Bill\ncloses: 14d\nitems:\n  - kind: survey\n")
    await sign_in(page, dash, "policy")
    await page.goto(f"{dash.base}/consultations")
    await page.get_by_label("Consultation file").set_input_files(bad)
    await page.get_by_role("button", name="Load the consultation").click()
    summary = page.get_by_role("alert")
    await expect(summary).to_contain_text("There is a problem")
    await expect(summary.get_by_role("link")).to_contain_text(
        "bill.yaml:5: items[0].kind: unknown or missing kind"
    )
    await expect(page).to_have_title(re.compile("^Error: Consultations"))
    await assert_accessible(page)
    await summary.get_by_role("link").click()
    await expect(page.get_by_label("Consultation file")).to_be_focused()


async def test_the_consultation_pages_fit_a_phone_and_a_desktop(
    dashboard_app: DashboardApp, new_page: Page
) -> None:
    dash, page = dashboard_app, new_page
    await sign_in(page, dash, "policy")
    await page.goto(f"{dash.base}/consultations")
    await page.get_by_label("Consultation file").set_input_files(EXAMPLES / "dental-bill.yaml")
    await page.get_by_label("Clause documents (optional)").set_input_files(
        EXAMPLES / "dental-bill.md"
    )
    await page.get_by_role("button", name="Load the consultation").click()
    async with dash.app.db.transaction() as session:
        found = await ConsultationRepository(session).latest("dental-bill")
        assert found is not None
        items = list(await ConsultationRepository(session).items(found))
    for n, item in enumerate(items[:-1]):
        await dash.app.dispatch(People("slack").click(f"p{n % 3}", item.short_id, 1 + n % 3))
    for width in WIDTHS:
        await page.set_viewport_size({"width": width, "height": 900})
        for path in ("/consultations", "/consultations/dental-bill"):
            await page.goto(f"{dash.base}{path}")
            await no_overflow(page)
            await assert_accessible(page)
