"""The moderation queue and audit log in headless Chromium: decide, see it leave, axe."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.browser.conftest import DashboardApp, assert_accessible, sign_in


async def public_answers(dash: DashboardApp, short_id: str) -> list[str]:
    from services import results
    from storage.items import ItemRepository

    async with dash.app.db.transaction() as session:
        item = await ItemRepository(session).by_short_id(short_id)
        assert item is not None
        summary = (await results.compute(session, item)).to_json()
    return [a["text"] for a in summary["answers"]]


async def test_moderator_approves_and_redacts(dashboard_app: DashboardApp, new_page: Page) -> None:
    dash, page = dashboard_app, new_page
    q = await dash.create('ask "How can we improve the parks?"')
    await dash.answer(q, "More benches near the pond", "ann")
    held = await dash.answer(q, "Email me at bob@example.com about the benches", "bob")
    phone = await dash.answer(q, "Potholes by the gate, ring 020 7946 0958", "cat")
    assert await public_answers(dash, q) == ["More benches near the pond"]

    email = await sign_in(page, dash, "moderator")
    await page.goto(f"{dash.base}/moderation")
    await expect(page.get_by_role("heading", name="Moderation queue")).to_be_visible()
    await assert_accessible(page)

    entry = page.get_by_role("region", name=f"Answer {held}")
    await expect(entry.get_by_text("Email address")).to_be_visible()
    await entry.get_by_label(re.compile("Reason for your decision")).fill(
        "The author's own address"
    )
    await entry.get_by_role("button", name="Approve").click()
    await expect(page.get_by_text(f"{held}: approved and visible.")).to_be_visible()
    await expect(page.get_by_role("region", name=f"Answer {held}")).to_have_count(0)
    await assert_accessible(page)  # with the flash message
    assert await public_answers(dash, q) == [
        "More benches near the pond",
        "Email me at bob@example.com about the benches",
    ]

    await (
        page.get_by_role("region", name=f"Answer {phone}")
        .get_by_role("button", name="Redact")
        .click()
    )
    await expect(page.get_by_text("personal data removed")).to_be_visible()
    await expect(page.get_by_text("The moderation queue is empty.")).to_be_visible()
    assert "Potholes by the gate, ring [phone removed]" in await public_answers(dash, q)

    await page.goto(f"{dash.base}/audit")
    await expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    row = page.get_by_role("row", name=re.compile(f"answer.approve {held}"))
    await expect(row).to_contain_text(f"dashboard:{email}")
    await expect(row).to_contain_text("The author's own address")
    await assert_accessible(page)
    await page.get_by_label("Action").select_option("answer.")
    await page.get_by_role("button", name="Filter").click()
    await expect(page.get_by_role("row", name=re.compile("item.create"))).to_have_count(0)
    await expect(page.get_by_role("row", name=re.compile(f"answer.redact {phone}"))).to_be_visible()
    await assert_accessible(page)

    response = await page.goto(f"{dash.base}/items")
    assert response is not None and response.status == 403
