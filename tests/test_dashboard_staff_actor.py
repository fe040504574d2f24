"""Dashboard accounts appear as ``dashboard:<email>`` in the audit log (issue 12, defect 3)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from bot.config import Settings
from storage.db import Database
from storage.models import AuditEntry, Item
from tests.dashboard_support import DashApp, plain, start_dashboard
from tests.support import FakeClock


@pytest.fixture
async def dash(settings: Settings, db: Database, clock: FakeClock) -> AsyncIterator[DashApp]:
    async for running in start_dashboard(settings, db, clock):
        yield running


async def test_items_created_on_the_dashboard_are_audited_as_the_account(dash: DashApp) -> None:
    policy = await dash.sign_in("policy")
    form = {"kind": "scale", "question": "Sundays?", "channel": "web|public|", "results": "live"}
    created = await policy.post("/items/new", {**form, "csrf": await policy.csrf("/items/new")})
    assert created.status == 200 and "Published scale" in plain(created.text)
    async with dash.app.db.transaction() as session:
        entry = (
            await session.execute(select(AuditEntry).where(AuditEntry.action == "item.create"))
        ).scalar_one()
        item = (await session.execute(select(Item))).scalar_one()
    assert entry.actor == policy.subject == "dashboard:policy@example.gov.uk"
    assert item.created_by == policy.subject

    admin = await dash.sign_in("admin")
    query = urlencode({"actor": policy.subject, "action": "item."})
    shown = plain((await admin.get(f"/audit?{query}")).text)
    assert "item.create" in shown and policy.subject in shown and "web user" not in shown


async def test_a_poll_in_english_and_welsh_from_the_new_item_form(dash: DashApp) -> None:
    """Issue 18: the form's Welsh fields (lang="cy") become the item's Welsh; a Welsh option
    count that does not match is refused with a GOV.UK error."""
    policy = await dash.sign_in("policy")
    page = await policy.get("/items/new")
    assert 'name="question_cy"' in page.text and 'lang="cy"' in page.text
    form = {
        "kind": "poll",
        "question": "Sundays?",
        "options": "Yes\nNo",
        "question_cy": "Dydd Sul?",
        "options_cy": "Ie",
        "channel": "web|public|",
        "results": "live",
    }
    refused = await policy.post("/items/new", {**form, "csrf": await policy.csrf("/items/new")})
    assert refused.status == 400
    assert "Enter one Welsh option for each option" in plain(refused.text)
    form["options_cy"] = "Ie\nNa"
    created = await policy.post("/items/new", {**form, "csrf": await policy.csrf("/items/new")})
    assert created.status == 200 and "Published poll" in plain(created.text)
    async with dash.app.db.transaction() as session:
        item = (await session.execute(select(Item))).scalar_one()
        assert item.question_cy == "Dydd Sul?"
        assert [(o.label, o.label_cy) for o in item.options] == [("Yes", "Ie"), ("No", "Na")]


async def test_policy_sees_and_decides_escalated_answers_on_the_item_page(dash: DashApp) -> None:
    q = await dash.create('ask "How can we improve the parks?"')
    held = await dash.answer(q, "Email me at bob@example.com about the pond", "bob")
    moderator = await dash.sign_in("moderator")
    csrf = await moderator.csrf("/moderation")
    form = {"csrf": csrf, "decision": "escalate", "reason": "Is the pond ours to fix?"}
    escalated = await moderator.post(f"/moderation/{held}", form)
    assert f"A{held}: escalated to the policy team." in plain(escalated.text)

    policy = await dash.sign_in("policy")
    page = await policy.get(f"/items/{q}")
    shown = plain(page.text)
    assert "Escalated to the policy team" in shown and "Is the pond ours to fix?" in shown
    token = await policy.csrf(f"/items/{q}")
    done = await policy.post(f"/items/{q}/escalated/{held}", {"csrf": token, "decision": "approve"})
    assert f"A{held}: approved and visible." in plain(done.text)
    assert "Escalated to the policy team" not in plain(done.text)
    async with dash.app.db.transaction() as session:
        entry = (
            await session.execute(select(AuditEntry).where(AuditEntry.action == "answer.approve"))
        ).scalar_one()
    assert entry.actor == policy.subject and entry.target == f"A{held}"
    again = await policy.post(f"/items/{q}/escalated/{held}", {"csrf": token, "decision": "hide"})
    assert f"A{held} is no longer escalated: it is visible." in plain(again.text)
