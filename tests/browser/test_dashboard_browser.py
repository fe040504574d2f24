"""The dashboard's own pages in headless Chromium: sign-in, the items overview, new items, axe."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from bot.views import Card
from tests.browser.conftest import (
    PASSWORD,
    DashboardApp,
    assert_accessible,
    focus_until,
    sign_in,
)


async def test_sign_in_page_and_its_errors(dashboard_app: DashboardApp, new_page: Page) -> None:
    page = new_page
    await page.goto(f"{dashboard_app.base}/items")
    await expect(page).to_have_title("Sign in – Townhall")
    await assert_accessible(page)
    await page.get_by_label("Email address").fill("nobody@example.gov.uk")
    await page.get_by_label("Password", exact=True).fill("not a password at all")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_title("Error: Sign in – Townhall")
    summary = page.get_by_role("alert")
    await expect(summary).to_contain_text("Enter a correct email address and password")
    await assert_accessible(page)
    await summary.get_by_role("link").click()
    await expect(page.get_by_label("Email address")).to_be_focused()


async def test_sign_in_by_keyboard_alone(dashboard_app: DashboardApp, new_page: Page) -> None:
    page = new_page
    email = await dashboard_app.account("policy")
    await page.goto(f"{dashboard_app.base}/sign-in?next=/items/new")
    await focus_until(page, "input[name=email]")
    await page.keyboard.type(email)
    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORD)
    await focus_until(page, "button[type=submit]")
    await page.keyboard.press("Enter")
    await expect(page).to_have_title("Create and publish an item – Townhall")
    await focus_until(page, "button.th-link-button")  # sign out is reachable too
    await page.keyboard.press("Enter")
    await expect(page.get_by_text("You have signed out.")).to_be_visible()
    await assert_accessible(page)


async def test_overview_and_filters(dashboard_app: DashboardApp, new_page: Page) -> None:
    page = new_page
    poll = await dashboard_app.create('poll "Open the library on Sundays?" "Yes" "No"')
    question = await dashboard_app.create('ask "What would improve the high street?"')
    await dashboard_app.create('scale "The park is safe at night"')
    await sign_in(page, dashboard_app, "policy")
    await expect(page).to_have_title("Items – Townhall")
    table = page.get_by_role("table")
    await expect(table.get_by_role("row")).to_have_count(4)
    await expect(table).to_contain_text("Test: C1")
    await assert_accessible(page)

    await page.get_by_label("Kind").select_option("ask")
    await page.get_by_role("button", name="Apply filters").click()
    await expect(table.get_by_role("row")).to_have_count(2)
    await expect(
        page.get_by_role("link", name="What would improve the high street?")
    ).to_be_visible()
    assert "kind=ask" in page.url
    await assert_accessible(page)

    await page.get_by_role("link", name="Clear filters").first.click()
    await page.get_by_label("Search").fill(poll.lower())
    await page.get_by_role("button", name="Apply filters").click()
    await expect(table.get_by_role("row")).to_have_count(2)
    await page.get_by_role("link", name="Open the library on Sundays?").click()
    await expect(page).to_have_url(re.compile(f"/items/{poll}$"))

    await dashboard_app.app.dispatch(dashboard_app.people.command("officer", f"close {question}"))
    await page.goto(f"{dashboard_app.base}/items?status=closed")
    await expect(table.get_by_role("row")).to_have_count(2)
    await expect(table.get_by_text("Closed", exact=True)).to_be_visible()

    await page.goto(f"{dashboard_app.base}/items?q=nothing+like+this")
    await expect(page.get_by_text("No items match your filters.")).to_be_visible()
    await assert_accessible(page)


async def test_create_and_publish_to_the_web_chat(
    dashboard_app: DashboardApp, new_page: Page
) -> None:
    page = new_page
    await sign_in(page, dashboard_app, "policy")
    await page.get_by_role("link", name="New item").click()
    await expect(page).to_have_title("Create and publish an item – Townhall")
    await assert_accessible(page)

    await page.get_by_role("button", name="Publish").click()  # nothing filled in
    await expect(page).to_have_title("Error: Create and publish an item – Townhall")
    await expect(page.get_by_role("alert")).to_contain_text("Enter the question or statement")
    await assert_accessible(page)

    await page.get_by_label("Poll (several choices)").check()
    await page.get_by_label("Question or statement").fill('Which "days" should it open? --multi')
    await page.get_by_label("Options (polls), or seed statements (statements)").fill(
        "Saturday\n--Sunday\n\n'Monday'\n"
    )
    await page.get_by_label("When does it close? (optional)").fill("2d")
    await page.get_by_label("Where do you want to publish it?").select_option(
        label="Web chat (public page)"
    )
    await page.get_by_role("button", name="Publish").click()
    await expect(page).to_have_url(re.compile(r"/items/\w{6}$"))  # the new item's page
    short_id = page.url.rsplit("/", 1)[1]

    await page.goto(f"{dashboard_app.base}/c/{short_id}")
    for label in ("Saturday", "--Sunday", "'Monday'"):
        await expect(page.get_by_label(label, exact=True)).to_be_visible()
    await expect(page.get_by_role("checkbox")).to_have_count(3)


async def test_publish_to_a_chat_channel(dashboard_app: DashboardApp, new_page: Page) -> None:
    page = new_page
    await dashboard_app.create('scale "An earlier item, published in C1"')
    sent_before = len(dashboard_app.test.sent)
    await sign_in(page, dashboard_app, "admin")
    await page.goto(f"{dashboard_app.base}/items/new")
    await page.get_by_label("Open question").check()
    await page.get_by_label("Question or statement").fill("How should the square be used?")
    await page.get_by_label("Lazy").check()
    await page.get_by_label("Where do you want to publish it?").select_option(label="Test: C1")
    await page.get_by_role("button", name="Publish").click()
    await expect(page).to_have_url(re.compile(r"/items/\w{6}$"))
    await dashboard_app.app.deliverer.drain()
    cards = [s for s in dashboard_app.test.sent[sent_before:] if isinstance(s.view, Card)]
    assert [c.target.channel_id for c in cards] == ["C1"]
    assert "How should the square be used?" in cards[0].view.title


async def test_bad_deadline_is_a_form_error(dashboard_app: DashboardApp, new_page: Page) -> None:
    page = new_page
    await sign_in(page, dashboard_app, "policy")
    await page.goto(f"{dashboard_app.base}/items/new")
    await page.get_by_label("Scale (agree to disagree)").check()
    await page.get_by_label("Question or statement").fill("Buses are reliable")
    await page.get_by_label("When does it close? (optional)").fill("yesterday")
    await page.get_by_role("button", name="Publish").click()
    await expect(page.get_by_role("alert")).to_contain_text("Enter when it closes")
    await expect(page.get_by_label("Question or statement")).to_have_value("Buses are reliable")
    await assert_accessible(page)


async def test_a_moderator_sees_their_own_menu(dashboard_app: DashboardApp, new_page: Page) -> None:
    page = new_page
    await sign_in(page, dashboard_app, "moderator")
    await expect(page).to_have_url(re.compile("/moderation$"))
    nav = page.get_by_role("navigation", name="Menu")
    await expect(nav.get_by_role("link")).to_have_text(["Moderation", "Audit log"])
    response = await page.goto(f"{dashboard_app.base}/items")
    assert response is not None and response.status == 403
    await expect(page).to_have_title("You do not have access to this page – Townhall")
    await assert_accessible(page)
