"""A statements item (issue 20) in headless Chromium: created with New item, then its opinion
map, groups and agreement tables once two camps have voted; axe on the page."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from storage.items import ItemRepository
from storage.people import ParticipantRepository
from storage.statements import StatementRepository
from tests.browser.conftest import DashboardApp, assert_accessible, sign_in

SEEDS = ["More trees", "A weekly market", "Free parking", "Car-free Saturdays"]
SEEDS += ["Better lighting", "More benches"]


async def test_new_statements_item_and_its_opinion_map(
    dashboard_app: DashboardApp, new_page: Page
) -> None:
    dash, page = dashboard_app, new_page
    await sign_in(page, dash, "policy")
    await page.goto(f"{dash.base}/items/new")
    await page.get_by_label("Statements (agree, disagree or pass; opinion groups)").check()
    await page.get_by_label("Question or statement").fill("What should the town centre become?")
    await page.get_by_label("Options (polls), or seed statements (statements)").fill(
        "\n".join(SEEDS)
    )
    await page.get_by_role("button", name="Publish").click()
    await expect(page).to_have_url(re.compile(r"/items/\w{6}$"))
    short_id = page.url.rsplit("/", 1)[1]
    await expect(page.get_by_text("No groups yet")).to_be_visible()

    # Two camps of 8: one for trees and no cars, one for parking; both want light and benches.
    async with dash.app.db.transaction() as session:
        item = await ItemRepository(session).by_short_id(short_id)
        assert item is not None
        repo = StatementRepository(session)
        rows = await repo.all(item.id)
        assert [r.text for r in rows] == SEEDS
        people = ParticipantRepository(session, dash.app.settings.secret_key.get_secret_value())
        for n in range(16):
            person = await people.ensure("test", f"voter{n}", dash.app.clock())
            camp = 1 if n < 8 else -1
            for i, row in enumerate(rows):
                value = 1 if i >= 4 else camp if i in (0, 3) else -camp
                shown = await repo.get(item.id, row.id)
                assert shown is not None
                await repo.vote(shown, person, value, dash.app.clock())

    await page.reload()
    opinion_map = page.get_by_role(
        "img", name=re.compile(r"^Opinion map of 16 people in 2 groups: group 1: 8 people")
    )
    await expect(opinion_map).to_be_visible()
    groups = page.locator("#groups-table tbody tr")
    await expect(groups).to_have_count(2)
    await expect(groups.nth(0)).to_contain_text("8")
    consensus = page.locator("#agreement-table tbody tr").filter(has_text="Consensus")
    await expect(consensus).to_have_count(2)
    await expect(consensus.nth(0)).to_contain_text("Better lighting")
    await expect(consensus.nth(0).locator("td").nth(0)).to_contain_text("100.0%")
    await assert_accessible(page)
