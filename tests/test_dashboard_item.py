"""The item page over HTTP: results, answers with filters and paging, tagging, exports, refusals."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select, update

from bot.config import Settings
from storage.db import Database
from storage.items import ItemRepository
from storage.models import Answer, AuditEntry
from tests.dashboard_support import DashApp, plain, start_dashboard
from tests.support import FakeClock, People


@pytest.fixture
async def dash(settings: Settings, db: Database, clock: FakeClock) -> AsyncIterator[DashApp]:
    async for running in start_dashboard(settings, db, clock):
        yield running


async def vote(dash: DashApp, short_id: str, platform: str, user: str, position: int) -> None:
    await dash.app.dispatch(People(platform).click(user, short_id, position))


async def set_status(dash: DashApp, answer_id: int, status: str) -> None:
    async with dash.app.db.transaction() as session:
        await session.execute(update(Answer).where(Answer.id == answer_id).values(status=status))


async def audit(dash: DashApp, action: str) -> list[AuditEntry]:
    async with dash.app.db.transaction() as session:
        query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        return list((await session.execute(query)).scalars().all())


def theme_counts(markup: str) -> dict[str, int]:
    """The themes table as {name: answers}, without the links' visually hidden suffix."""
    table = re.search(r'<table[^>]*id="themes-table".*?</table>', markup, re.S)
    if table is None:
        return {}
    seen = re.sub(r'<span class="govuk-visually-hidden">.*?</span>', "", table.group(0))
    counts = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", seen.split("<tbody", 1)[1], re.S):
        name, count = plain(row).rsplit(" ", 1)
        counts[name] = int(count)
    return counts


async def test_results_of_a_poll_voted_from_two_platforms(dash: DashApp) -> None:
    poll = await dash.create('poll "Open the library on Sundays?" "Yes" "No" "Unsure"')
    await vote(dash, poll, "slack", "ann", 1)
    await vote(dash, poll, "slack", "bob", 1)
    await vote(dash, poll, "telegram", "cat", 2)
    officer = await dash.sign_in("policy")
    page = await officer.get(f"/items/{poll}")
    assert page.status == 200
    text = plain(page.text)
    assert "Open the library on Sundays?" in text
    assert "Yes 2 66.7%" in text and "No 1 33.3%" in text and "Unsure 0 0.0%" in text
    assert "Slack 2" in text and "Telegram 1" in text
    assert 'role="img"' in page.text and "<canvas" not in page.text
    assert 'aria-label="Bar chart of results. Yes: 2 votes (66.7%)' in page.text
    assert "style=" not in page.text  # the CSP blocks inline styles
    # The embed snippet is shown as text, never as a live frame.
    assert "<iframe" not in page.text
    assert f"&lt;iframe src=&#34;{dash.base}/c/{poll}&#34;" in page.text or (
        f"&lt;iframe src=&quot;{dash.base}/c/{poll}&quot;" in page.text
    )
    assert f'href="/c/{poll}"' in page.text
    for fmt in ("csv", "json", "ods"):
        assert f'href="/items/{poll}/export.{fmt}"' in page.text
    assert "Responses per hour" in text


async def test_unknown_ids_are_404(dash: DashApp) -> None:
    question = await dash.create('ask "What would improve the high street?"')
    other = await dash.create('ask "Anything else?"')
    elsewhere = await dash.answer(other, "Benches", "ann", "web")
    officer = await dash.sign_in("policy")
    assert (await officer.get("/items/nosuch")).status == 404
    assert (await officer.get("/items/nosuch/export.csv")).status == 404
    csrf = await officer.csrf(f"/items/{question}")
    tag = f"/items/{question}/answers/{elsewhere}/themes"
    assert (await officer.post(tag, {"csrf": csrf, "new_theme": "X"})).status == 404
    missing = f"/items/{question}/answers/999999/themes"
    assert (await officer.post(missing, {"csrf": csrf, "new_theme": "X"})).status == 404
    assert await audit(dash, "answer.tag") == []


async def test_tagging_without_csrf_is_refused(dash: DashApp) -> None:
    question = await dash.create('ask "Ideas?"')
    first = await dash.answer(question, "Longer opening hours", "ann", "web")
    officer = await dash.sign_in("policy")
    where = f"/items/{question}/answers/{first}/themes"
    assert (await officer.post(where, {"new_theme": "Hours"})).status == 403
    assert (await officer.post(where, {"csrf": "forged", "new_theme": "Hours"})).status == 403
    assert "No themes yet" in plain((await officer.get(f"/items/{question}")).text)
    assert await audit(dash, "answer.tag") == []


async def test_tag_and_untag_answers(dash: DashApp) -> None:
    question = await dash.create('ask "What would improve the high street?"')
    first = await dash.answer(question, "More benches", "ann", "web")
    second = await dash.answer(question, "Somewhere to sit", "bob", "slack")
    officer = await dash.sign_in("policy")
    where = f"/items/{question}"
    csrf = await officer.csrf(where)

    tagged = await officer.post(
        f"{where}/answers/{first}/themes", {"csrf": csrf, "new_theme": "Seating"}
    )
    assert tagged.status == 200
    assert f"Answer A{first} is tagged “Seating”." in plain(tagged.text)
    assert theme_counts(tagged.text) == {"Seating": 1}
    theme_id = re.search(r'<option value="(\d+)">Seating</option>', tagged.text)
    assert theme_id, tagged.text

    again = {"csrf": csrf, "theme_id": theme_id.group(1)}
    page = await officer.post(f"{where}/answers/{second}/themes", again)
    assert theme_counts(page.text) == {"Seating": 2}
    page = await officer.post(f"{where}/answers/{second}/themes", again)
    assert f"Answer A{second} already had that theme." in plain(page.text)
    assert theme_counts(page.text) == {"Seating": 2}
    filtered = plain((await officer.get(f"{where}?theme={theme_id.group(1)}")).text)
    assert "Showing answers 1 to 2 of 2" in filtered

    remove = f"{where}/answers/{first}/themes/{theme_id.group(1)}/remove"
    page = await officer.post(remove, {"csrf": csrf})
    assert page.status == 200
    assert f"Removed the theme “Seating” from answer A{first}." in plain(page.text)
    assert theme_counts(page.text) == {"Seating": 1}

    assert [(e.actor, e.target, e.details["theme"]) for e in await audit(dash, "answer.tag")] == [
        (officer.subject, f"A{first}", "Seating"),
        (officer.subject, f"A{second}", "Seating"),
    ]
    untags = await audit(dash, "answer.untag")
    assert [(e.actor, e.target) for e in untags] == [(officer.subject, f"A{first}")]


async def test_answers_are_filtered_and_paged(dash: DashApp) -> None:
    question = await dash.create('ask "Ideas for the park?"')
    ids = []
    for n in range(25):
        platform = "slack" if n % 2 else "telegram"
        ids.append(await dash.answer(question, f"Idea number {n:02d}", f"user{n}", platform))
    await set_status(dash, ids[0], "held")
    await set_status(dash, ids[1], "hidden")
    officer = await dash.sign_in("policy")

    page = plain((await officer.get(f"/items/{question}")).text)
    assert "Showing answers 1 to 20 of 25" in page
    assert "Held for review" in page and "Hidden" in page
    page2 = plain((await officer.get(f"/items/{question}?page=2")).text)
    assert "Showing answers 21 to 25 of 25" in page2 and "Idea number 24" in page2

    visible = plain((await officer.get(f"/items/{question}?status=visible")).text)
    assert "of 23" in visible and "Idea number 00" not in visible
    held = plain((await officer.get(f"/items/{question}?status=held")).text)
    assert "Showing answers 1 to 1 of 1" in held and "Idea number 00" in held
    slack = plain((await officer.get(f"/items/{question}?platform=slack")).text)
    assert "of 12" in slack
    search = plain((await officer.get(f"/items/{question}?q=number+1")).text)
    assert "of 10" in search  # 1, 10..18, 19 -> "number 1" matches 01 (no), 10-19
    # Public results never count held or hidden answers.
    assert "with 23 responses shown in public results" in page


async def test_export_permissions_and_contents(dash: DashApp) -> None:
    question = await dash.create('ask "Ideas?"')
    shown = await dash.answer(question, "Shown idea", "ann", "web")
    hidden = await dash.answer(question, "Hidden idea", "bob", "web")
    await set_status(dash, hidden, "hidden")
    assert shown != hidden
    officer = await dash.sign_in("policy")

    response = await officer.raw(f"/items/{question}/export.csv")
    assert response.status == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(response.body.decode("utf-8-sig"))))
    texts = {r.get("text") for r in rows}
    assert "Shown idea" in texts and "Hidden idea" not in texts

    refused = await officer.raw(f"/items/{question}/export.csv?include_hidden=1")
    assert refused.status == 403
    everything = await officer.raw("/export.json")
    assert everything.status == 200
    # One item exists, yet the all-items export keeps its many-items shape.
    assert [i["item"]["id"] for i in json.loads(everything.body)["items"]] == [question]

    moderator = await dash.sign_in("moderator")
    assert (await moderator.get(f"/items/{question}")).status == 403
    full = await moderator.raw(f"/items/{question}/export.json?include_hidden=1")
    assert full.status == 200 and "Hidden idea" in full.body.decode()
    assert json.loads(full.body)["item"]["id"] == question
    ods = await moderator.raw(f"/items/{question}/export.ods")
    assert ods.status == 200 and ods.body[:2] == b"PK"

    entries = await audit(dash, "export")
    assert [
        (e.actor, e.target, e.details["format"], e.details["include_hidden"]) for e in entries
    ] == [
        (officer.subject, question, "csv", False),
        (officer.subject, "all", "json", False),
        (moderator.subject, question, "json", True),
        (moderator.subject, question, "ods", False),
    ]
    async with dash.app.db.transaction() as session:
        assert await ItemRepository(session).by_short_id(question) is not None


async def test_signed_out_people_are_sent_to_sign_in(dash: DashApp) -> None:
    question = await dash.create('ask "Ideas?"')
    anonymous = dash.anonymous()
    response = await anonymous.get(f"/items/{question}", follow=False)
    assert response.status == 303 and response.location.startswith("/sign-in?next=")
    response = await anonymous.get(f"/items/{question}/export.csv", follow=False)
    assert response.status == 303
