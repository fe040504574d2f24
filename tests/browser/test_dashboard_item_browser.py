"""The item page in headless Chromium: results, tagging, downloads, axe, and a web chat vote."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import DashboardApp, assert_accessible, sign_in
from tests.support import People


@pytest.fixture
def dash(dashboard_app: DashboardApp) -> DashboardApp:
    return dashboard_app


@pytest.fixture
def page(new_page: Page) -> Page:
    return new_page


async def test_policy_officer_reads_the_results_of_a_poll(dash: DashboardApp, page: Page) -> None:
    poll = await dash.create('poll "Open the library on Sundays?" "Yes" "No"')
    for platform, user, choice in [
        ("slack", "ann", 1),
        ("slack", "bob", 2),
        ("telegram", "cat", 1),
    ]:
        await dash.app.dispatch(People(platform).click(user, poll, choice))
    await sign_in(page, dash, "policy")
    await page.goto(f"{dash.base}/items/{poll}")
    await expect(
        page.get_by_role("heading", level=1, name="Open the library on Sundays?")
    ).to_be_visible()
    await expect(page.get_by_role("row", name="Yes 2 66.7%")).to_be_visible()
    await expect(page.get_by_role("row", name="No 1 33.3%")).to_be_visible()
    await expect(page.get_by_role("row", name="Slack 2")).to_be_visible()
    await expect(page.get_by_role("row", name="Telegram 1")).to_be_visible()
    chart = page.get_by_role("img", name=re.compile("^Bar chart of results. Yes: 2 votes"))
    await expect(chart).to_be_visible()
    await expect(page.locator("iframe")).to_have_count(0)  # the snippet is text
    await expect(page.get_by_text(f'<iframe src="{dash.base}/c/{poll}"')).to_be_visible()
    await assert_accessible(page)


async def test_each_export_downloads_and_parses(
    dash: DashboardApp, page: Page, tmp_path: Path
) -> None:
    question = await dash.create('ask "Ideas for the park?"')
    await dash.answer(question, "A pond with ducks", "ann", "web")
    await sign_in(page, dash, "policy")
    await page.goto(f"{dash.base}/items/{question}")
    saved: dict[str, bytes] = {}
    for fmt, label in [("csv", "CSV"), ("json", "JSON"), ("ods", "ODS (spreadsheet)")]:
        async with page.expect_download() as info:
            await page.get_by_role("link", name=f"Download {label}").click()
        download = await info.value
        assert download.suggested_filename.endswith(f".{fmt}")
        target = tmp_path / download.suggested_filename
        await download.save_as(target)
        saved[fmt] = target.read_bytes()
    rows = list(csv.DictReader(io.StringIO(saved["csv"].decode("utf-8-sig"))))
    assert "A pond with ducks" in {r.get("text") for r in rows}
    assert "A pond with ducks" in json.dumps(json.loads(saved["json"]), ensure_ascii=False)
    with zipfile.ZipFile(io.BytesIO(saved["ods"])) as ods:
        assert "A pond with ducks" in ods.read("content.xml").decode()


async def test_a_web_chat_vote_shows_on_the_dashboard(dash: DashboardApp, page: Page) -> None:
    poll = await dash.create('poll "Open the library on Sundays?" "Yes" "No"')
    await sign_in(page, dash, "policy")
    await page.goto(f"{dash.base}/items/{poll}")
    await expect(page.get_by_role("row", name="Yes 0 0.0%")).to_be_visible()

    citizen = await page.context.browser.new_context()  # type: ignore[union-attr]
    try:
        chat = await citizen.new_page()
        await chat.goto(f"{dash.base}/c/{poll}")
        await chat.get_by_label("Yes").check()
        await chat.get_by_role("button", name="Send my vote").click()
        await expect(chat.get_by_text("Thanks, your vote for “Yes” is recorded.")).to_be_visible()
    finally:
        await citizen.close()

    await page.reload()
    await expect(page.get_by_role("row", name="Yes 1 100.0%")).to_be_visible()
    await expect(page.get_by_role("row", name="Web chat 1")).to_be_visible()
    await assert_accessible(page)


async def test_tag_an_answer_and_the_theme_count_changes(dash: DashboardApp, page: Page) -> None:
    question = await dash.create('ask "What would improve the high street?"')
    first = await dash.answer(question, "More benches", "ann", "web")
    second = await dash.answer(question, "Somewhere to sit", "bob", "slack")
    await sign_in(page, dash, "policy")
    await page.goto(f"{dash.base}/items/{question}")
    await expect(page.get_by_text("No themes yet.")).to_be_visible()

    # One control for the list: tick the answers, then apply a theme to all of them.
    await expect(
        page.locator("#answers input[name=new_theme], form input[name=new_theme]")
    ).to_have_count(1)
    await page.get_by_label(f"Select answer {first}").check()
    await page.get_by_label("New theme").fill("Seating")
    await page.get_by_role("button", name="Apply theme to selected answers").click()
    await expect(page.get_by_text(f"Tagged answer {first} “Seating”.")).to_be_visible()
    seating = page.locator("#themes-table tbody tr").filter(has_text="Seating")
    await expect(seating.locator("td")).to_have_text("1")

    # Both answers pick the theme that now exists, by keyboard; the first keeps it once.
    await page.get_by_label(f"Select answer {first}").check()
    await page.get_by_label(f"Select answer {second}").check()
    await page.get_by_label("Existing theme").select_option(label="Seating")
    await page.get_by_role("button", name="Apply theme to selected answers").press("Enter")
    await expect(page.get_by_text(f"Tagged answer {second} “Seating”.")).to_be_visible()
    await expect(seating.locator("td")).to_have_text("2")
    themes = page.get_by_role("list", name=f"Themes of answer {second}")
    await expect(themes).to_contain_text("Seating")
    await assert_accessible(page)

    await page.get_by_role("link", name=re.compile(r"^Seating\s*: show its answers$")).click()
    await expect(page.locator("#answers-count")).to_have_text("Showing answers 1 to 2 of 2.")

    await page.get_by_role("button", name=f"Remove theme Seating from answer {first}").click()
    removed = page.get_by_text(f"Removed the theme “Seating” from answer {first}.")
    await expect(removed).to_be_visible()
    await expect(seating.locator("td")).to_have_text("1")
