"""The dashboard and web chat pages at a phone's 390px and a desktop's 1280px: axe finds
nothing, no table is wider than its container, audit times take two lines at most, chart
labels are body text (also at 200% zoom), the web chat's privacy buttons fill a phone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.async_api import Page, expect

from storage.ledger import AuditLog
from tests.browser.conftest import DashboardApp, assert_accessible, sign_in
from tests.support import People

WIDTHS = (390, 1280)
LONG_CHANNEL = "#consultation-on-the-local-bus-services-bill-and-fare-caps"
LONG_EMAIL = "a.very-long-name.from-the-policy-directorate@communities.example.gov.uk"

#: [what, table width, container width, overflowing?] for every table, plus the page itself.
OVERFLOW = """() => {
  const out = [...document.querySelectorAll('table')].map(t => {
    const box = t.getBoundingClientRect(), outer = t.parentElement.getBoundingClientRect();
    return [t.id || t.className, t.scrollWidth, t.parentElement.clientWidth,
            t.scrollWidth > t.clientWidth + 1 || box.right > outer.right + 1];
  });
  const page = document.documentElement;
  out.push(['page', page.scrollWidth, window.innerWidth, page.scrollWidth > window.innerWidth]);
  return out;
}"""


@pytest.fixture
def dash(dashboard_app: DashboardApp) -> DashboardApp:
    return dashboard_app


@pytest.fixture
def page(new_page: Page) -> Page:
    return new_page


async def fill(dash: DashboardApp) -> tuple[str, str]:
    """A poll with votes and an open question with 18 answers (one held), published in a
    channel with a long name; the audit log has a long account name and grouped rows."""
    dash.test.channel_names["C1"] = LONG_CHANNEL
    poll = await dash.create(
        'poll "Should Harrowgate Central Library open on Sundays?" '
        '"Yes, every Sunday" "Yes, but only in term time" "No, keep the current hours" '
        "--closes 7d"
    )
    for n in range(6):
        await dash.app.dispatch(People("slack").click(f"v{n}", poll, 1 + n % 3))
    question = await dash.create(
        'ask "What one change would make the high street a better place to visit?"'
    )
    for n in range(17):
        await dash.answer(question, f"Idea number {n}: more benches and shade", f"a{n}", "web")
    await dash.answer(question, "Ring me on 07700 900461 about the bins", "held", "web")
    now = dash.app.clock()
    async with dash.app.db.transaction() as session:
        audit = AuditLog(session)
        await audit.record(
            f"dashboard:{LONG_EMAIL}", "staff.sign_in", f"dashboard:{LONG_EMAIL}", now
        )
        for platform in ("telegram", "discord", "web"):
            await audit.record(
                "slack:U05DEMOPLCY",
                "item.publish",
                question,
                now - timedelta(hours=1),
                platform=platform,
                channel="1187245061234567890",
            )
    return poll, question


async def no_overflow(page: Page) -> None:
    found = await page.evaluate(OVERFLOW)
    assert not [row for row in found if row[3]], found


async def test_dashboard_pages_fit_and_pass_axe_on_a_phone_and_a_desktop(
    dash: DashboardApp, page: Page
) -> None:
    poll, question = await fill(dash)
    await sign_in(page, dash, "admin")
    for width in WIDTHS:
        await page.set_viewport_size({"width": width, "height": 900})
        for path in ("/items", "/audit", f"/items/{question}", f"/items/{poll}", "/moderation"):
            await page.goto(f"{dash.base}{path}")
            await no_overflow(page)
            await assert_accessible(page)
        await page.goto(f"{dash.base}/items")
        listed = page.locator("tbody tr").filter(has_text="high street")
        await expect(listed).to_contain_text(f"Test: {LONG_CHANNEL}")
        await expect(listed.get_by_text(f"Test: {LONG_CHANNEL}")).to_have_attribute(
            "title", "Channel id C1"
        )


async def test_items_list_gives_the_question_room(dash: DashboardApp, page: Page) -> None:
    await fill(dash)
    await sign_in(page, dash, "policy")
    await page.set_viewport_size({"width": 1280, "height": 900})
    await page.goto(f"{dash.base}/items")
    link = page.get_by_role("link", name="What one change would make the high street")
    width = await link.evaluate("a => a.closest('td').getBoundingClientRect().width")
    assert width >= 0.25 * 960, width  # was ~10 characters a line


async def test_audit_times_take_two_lines_at_most_and_one_action_is_one_row(
    dash: DashboardApp, page: Page
) -> None:
    await fill(dash)
    await sign_in(page, dash, "moderator")
    await page.set_viewport_size({"width": 1280, "height": 900})
    await page.goto(f"{dash.base}/audit")
    lines = await page.evaluate(
        """() => [...document.querySelectorAll('.th-audit tbody tr td:first-child')].map(td =>
             new Set([...td.querySelectorAll('span')]
               .map(s => Math.round(s.getBoundingClientRect().top))).size)"""
    )
    assert lines and max(lines) <= 2, lines
    group = page.locator(".th-audit tbody tr").filter(has_text="Published an item")
    await expect(group).to_have_count(1)
    await expect(group).to_contain_text("Published an item (3 times)")
    await expect(group).to_contain_text("item.publish")


async def test_chart_labels_are_body_text_also_at_200_percent_zoom(
    dash: DashboardApp, page: Page
) -> None:
    poll, _ = await fill(dash)
    await sign_in(page, dash, "policy")
    # 1280px at 100%, then the same window at 200% zoom: 640 CSS pixels, 2 device pixels each.
    for width, scale in ((1280, 1), (640, 2)):
        context = await page.context.browser.new_context(  # type: ignore[union-attr]
            viewport={"width": width, "height": 900},
            device_scale_factor=scale,
            storage_state=await page.context.storage_state(),
        )
        zoomed = await context.new_page()
        await zoomed.goto(f"{dash.base}/items/{poll}")
        sizes = await zoomed.evaluate(
            """() => ({
              label: getComputedStyle(document.querySelector('.th-bars__label')).fontSize,
              value: getComputedStyle(document.querySelector('.th-bars__value')).fontSize,
              tick: getComputedStyle(document.querySelector('.th-chart__ticks')).fontSize,
              body: getComputedStyle(document.querySelector('#main-content .govuk-body')).fontSize,
            })"""
        )
        assert sizes["label"] == sizes["value"] == sizes["tick"] == sizes["body"], sizes
        if width == 1280:
            assert sizes["body"] == "19px"
        chart = zoomed.get_by_role("img", name="Bar chart of results")
        await expect(chart).to_be_visible()
        await no_overflow(zoomed)
        await context.close()


async def test_web_chat_on_a_phone_and_a_desktop(dash: DashboardApp, page: Page) -> None:
    poll, question = await fill(dash)
    for width in WIDTHS:
        await page.set_viewport_size({"width": width, "height": 900})
        for item in (poll, question):
            await page.goto(f"{dash.base}/c/{item}")
            await expect(page.locator(".govuk-caption-l")).to_have_text(
                "Poll" if item == poll else "Question"
            )
            await no_overflow(page)
            await assert_accessible(page)
        buttons = await page.evaluate(
            """() => [...document.querySelectorAll('.govuk-button-group button[name=command]')]
               .map(b => [b.getBoundingClientRect().width,
                          b.parentElement.getBoundingClientRect().width])"""
        )
        assert len(buttons) == 2
        if width == 390:
            assert all(abs(mine - group) <= 1 for mine, group in buttons), buttons
    # The confirmation is a success banner, with the privacy notice as a link.
    await page.goto(f"{dash.base}/c/{poll}")
    await page.get_by_label("Yes, every Sunday").check()
    await page.get_by_role("button", name="Send my vote").click()
    banner = page.locator(".govuk-notification-banner--success")
    await expect(banner).to_contain_text("your vote for “Yes, every Sunday” is recorded")
    await assert_accessible(page)
    response = await page.request.get(f"{dash.base}/favicon.ico")
    assert response.status == 200
