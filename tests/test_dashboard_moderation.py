"""The moderation queue and the audit log over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from bot.config import Settings
from dashboard.pages.moderation import PER_PAGE, subject_label
from storage.db import Database
from storage.models import Answer, AuditEntry, OutboxMessage
from tests.conftest import SECRET
from tests.dashboard_support import DashApp, plain, start_dashboard
from tests.support import FakeClock, People

HELD = "Email me at bob@example.com, it's about the pond"


@pytest.fixture
async def dash(settings: Settings, db: Database, clock: FakeClock) -> AsyncIterator[DashApp]:
    async for running in start_dashboard(settings, db, clock):
        yield running


async def load(dash: DashApp, answer_id: int) -> Answer:
    async with dash.app.db.transaction() as session:
        found = await session.get(Answer, answer_id)
        assert found is not None
        return found


async def audit(dash: DashApp) -> list[AuditEntry]:
    async with dash.app.db.transaction() as session:
        rows = await session.execute(select(AuditEntry).order_by(AuditEntry.id))
        return list(rows.scalars().all())


async def test_each_decision_changes_the_answer_and_names_the_staff_member(dash: DashApp) -> None:
    q = await dash.create('ask "How can we improve the parks?"')
    ids = [
        await dash.answer(q, HELD, "ann"),
        await dash.answer(q, "My email is bob@example.com", "bob"),
        await dash.answer(q, "Ring me on 020 7946 0958 about the benches", "cat"),
        await dash.answer(q, "Contact dan@example.com, I'm the warden", "dan"),
    ]
    moderator = await dash.sign_in("moderator")
    page = await moderator.get("/moderation")
    assert page.status == 200
    text = plain(page.text)
    assert "4 answers are waiting" in text
    assert [f"A{i}" for i in ids] == re.findall(r"Answer (A\d+)", text)  # oldest first
    assert "Email address" in text and "personal:email" not in text
    assert "Held" in text and "Test" in text
    # A moderator may not open item pages, so the question is not a link for them.
    assert f'href="/items/{q}"' not in page.text
    csrf = await moderator.csrf("/moderation")

    reasons = {
        "approve": "It's the user's own address -- fine",
        "hide": "Not about parks",
        "redact": "Phone number",
        "escalate": 'Needs the policy team\'s view: "warden"',
    }
    for answer_id, (decision, reason) in zip(ids, reasons.items(), strict=True):
        response = await moderator.post(
            f"/moderation/{answer_id}",
            {"csrf": csrf, "decision": decision, "reason": reason},
            follow=False,
        )
        assert response.status == 303 and response.location == "/moderation"
    approved, hidden, redacted, escalated = [await load(dash, i) for i in ids]
    assert (approved.status, approved.needs_review) == ("visible", False)
    assert (hidden.status, hidden.needs_review) == ("hidden", False)
    assert redacted.text == "Ring me on [phone removed] about the benches"
    assert (redacted.status, redacted.redacted) == ("visible", True)
    assert escalated.escalated and escalated.needs_review
    assert {a.reviewed_by for a in (approved, hidden, redacted, escalated)} == {
        "dashboard:moderator@example.gov.uk"
    }

    entries = [e for e in await audit(dash) if e.action.startswith("answer.")]
    assert [(e.actor, e.action, e.target, e.details["why"]) for e in entries] == [
        ("dashboard:moderator@example.gov.uk", f"answer.{d}", f"A{i}", r)
        for i, (d, r) in zip(ids, reasons.items(), strict=True)
    ]
    # The hidden answer's author is told on their own platform, as from the chat buttons.
    async with dash.app.db.transaction() as session:
        sent = (await session.execute(select(OutboxMessage))).scalars().all()
        assert any(f"hidden your answer A{ids[1]}" in str(m.view) for m in sent)

    page = await moderator.get("/moderation")
    text = plain(page.text)
    assert f"A{ids[3]}: escalated to the policy team." in text  # the flash
    assert re.findall(r"Answer (A\d+)", text) == [f"A{ids[3]}"]
    assert "Escalated" in text


async def test_queue_pages(dash: DashApp) -> None:
    q = await dash.create('ask "Ideas?"')
    ids = [await dash.answer(q, HELD, f"person{n}") for n in range(PER_PAGE + 2)]
    moderator = await dash.sign_in("moderator")

    first = await moderator.get("/moderation")
    assert f"{PER_PAGE + 2} answers are waiting" in plain(first.text)
    assert re.findall(r"Answer (A\d+)", plain(first.text)) == [f"A{i}" for i in ids[:PER_PAGE]]
    assert 'href="/moderation?page=2"' in first.text
    second = await moderator.get("/moderation?page=2")
    assert re.findall(r"Answer (A\d+)", plain(second.text)) == [f"A{i}" for i in ids[PER_PAGE:]]
    assert 'href="/moderation?page=1"' in second.text
    # Past the end shows the last page; nonsense shows the first.
    assert plain((await moderator.get("/moderation?page=99")).text) == plain(second.text)
    assert f"Answer A{ids[0]}" in plain((await moderator.get("/moderation?page=x")).text)

    # Deciding from page 2 returns to page 2.
    csrf = await moderator.csrf("/moderation?page=2")
    form = {"csrf": csrf, "decision": "approve", "page": "2"}
    decided = await moderator.post(f"/moderation/{ids[-1]}", form, follow=False)
    assert decided.status == 303 and decided.location == "/moderation?page=2"
    forged = {**form, "page": "//evil.example"}
    decided = await moderator.post(f"/moderation/{ids[-2]}", forged, follow=False)
    assert decided.location == "/moderation"
    after = (await moderator.get("/moderation")).text
    assert f"{PER_PAGE} answers are waiting" in plain(after)
    assert "?page=2" not in after  # one page left, so no pagination


async def test_a_decided_answer_is_not_decided_twice(dash: DashApp) -> None:
    q = await dash.create('ask "Ideas?"')
    held = await dash.answer(q, HELD, "ann")
    moderator = await dash.sign_in("moderator")
    csrf = await moderator.csrf("/moderation")
    await moderator.post(f"/moderation/{held}", {"csrf": csrf, "decision": "approve"})
    page = await moderator.post(f"/moderation/{held}", {"csrf": csrf, "decision": "hide"})
    assert f"A{held} was already decided: it is visible." in plain(page.text)
    assert (await load(dash, held)).status == "visible"
    missing = await moderator.post("/moderation/999999", {"csrf": csrf, "decision": "hide"})
    assert "There is no answer A999999." in plain(missing.text)
    wrong = await moderator.post(f"/moderation/{held}", {"csrf": csrf, "decision": "delete"})
    assert "Choose Approve, Hide, Redact or Escalate" in plain(wrong.text)
    assert [e.action for e in await audit(dash)].count("answer.approve") == 1


async def test_policy_accounts_and_forged_posts_are_refused(dash: DashApp) -> None:
    q = await dash.create('ask "Ideas?"')
    held = await dash.answer(q, HELD, "ann")
    officer = await dash.sign_in("policy")
    assert (await officer.get("/moderation")).status == 403
    assert (await officer.get("/audit")).status == 403
    csrf = await officer.csrf(f"/items/{q}")
    refused = await officer.post(f"/moderation/{held}", {"csrf": csrf, "decision": "approve"})
    assert refused.status == 403

    moderator = await dash.sign_in("moderator")
    assert (await moderator.get("/items")).status == 403
    no_csrf = await moderator.post(f"/moderation/{held}", {"decision": "approve"})
    assert no_csrf.status == 403
    forged = await moderator.post(f"/moderation/{held}", {"csrf": "x" * 40, "decision": "hide"})
    assert forged.status == 403
    still = await load(dash, held)
    assert (still.status, still.needs_review, still.reviewed_by) == ("held", True, None)
    assert not [e for e in await audit(dash) if e.action.startswith("answer.")]

    admin = await dash.sign_in("admin")
    page = await admin.get("/moderation")
    assert page.status == 200 and f'href="/items/{q}"' in page.text


async def test_audit_log_filters_and_pseudonyms(dash: DashApp) -> None:
    q = await dash.create('ask "Ideas?"')
    first = await dash.answer(q, HELD, "ann")
    second = await dash.answer(q, "Write to bob@example.com", "bob")
    # A moderator in the chat ("test:mod" in settings) decides one; the dashboard the other.
    await dash.app.dispatch(People().command("mod", f"hide A{first} spam"))
    moderator = await dash.sign_in("moderator")
    csrf = await moderator.csrf("/moderation")
    await moderator.post(f"/moderation/{second}", {"csrf": csrf, "decision": "approve"})

    page = await moderator.get("/audit")
    assert page.status == 200
    text = plain(page.text)
    chat_label = subject_label(SECRET, "test:mod")
    assert chat_label.startswith("test user ") and chat_label in text
    assert "test:mod" not in text and "test:officer" not in text
    assert moderator.subject in text
    assert "Time (UTC)" in text
    # Newest first.
    assert text.index(f"answer.approve A{second}") < text.index(f"answer.hide A{first}")

    async def filtered(**params: str) -> str:
        found = await moderator.get("/audit?" + urlencode(params))
        assert found.status == 200
        return plain(found.text)

    # The pseudonym shown is accepted back as a filter; so is the dashboard subject.
    by_chat = await filtered(actor=chat_label)
    assert f"answer.hide A{first}" in by_chat and f"answer.approve A{second}" not in by_chat
    assert "1 entry, filtered" in by_chat and "Clear filters" in by_chat
    by_staff = await filtered(actor=moderator.subject)
    assert f"answer.approve A{second}" in by_staff and f"answer.hide A{first}" not in by_staff
    by_target = await filtered(target=f"A{second}")
    assert f"answer.approve A{second}" in by_target and f"answer.hide A{first}" not in by_target
    items_only = await filtered(action="item.")
    assert "item.create" in items_only and "answer." not in items_only
    assert "No entries match these filters." in await filtered(actor="nobody@example.gov.uk")
    # An unknown action is ignored rather than matched as a prefix.
    unknown = await filtered(action="a")
    assert f"answer.approve A{second}" in unknown and "Clear filters" not in unknown


def test_subject_labels_hide_chat_identities() -> None:
    assert subject_label(SECRET, "dashboard:a@example.gov.uk") == "dashboard:a@example.gov.uk"
    assert subject_label(SECRET, "cli") == "cli"
    assert subject_label(SECRET, "system:scheduler") == "system:scheduler"
    assert subject_label(SECRET, "participant:0123456789ab") == "participant:0123456789ab"
    label = subject_label(SECRET, "slack:U024BE7LH")
    assert re.fullmatch(r"slack user [0-9a-f]{12}", label) and "U024BE7LH" not in label
    assert subject_label(SECRET, "A12") == "A12"
