"""The consultation page and loading a consultation file from the dashboard (SQLite, PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.config import Settings
from services import consultations
from services.consultation_file import ConsultationFileError, load_text
from storage.consultations import ConsultationRepository
from storage.db import Database
from storage.models import AuditEntry, Consultation, Item
from storage.people import ParticipantRepository
from storage.responses import AnswerRepository
from tests.dashboard_support import Client, DashApp, Page, plain, start_dashboard
from tests.support import FakeClock, People

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

SMALL = """\
slug: harbour-bill
title: Draft Harbour Bill
closes: 14d
items:
  - kind: clauses
    text: |
      ## 1. Moorings
      Each harbour authority keeps a register of moorings.
      ## 2. Charges
      Charges are set each April.
      ## 3. Dredging
      The authority dredges the channel yearly.
  - kind: rating
    regulations:
      - title: The Harbour Lights Order 1998
      - title: The Slipway Permits Regulations 2004
  - kind: ask
    question: What else should the Bill do?
"""

#: Two problems: a slug with capitals and a space, and an item of no known kind (line 17).
BAD = SMALL.replace("slug: harbour-bill", "slug: Harbour Bill").replace("kind: ask", "kind: survey")


@pytest.fixture
async def dash(settings: Settings, db: Database, clock: FakeClock) -> AsyncIterator[DashApp]:
    async for running in start_dashboard(settings, db, clock):
        yield running


async def load_small(dash: DashApp) -> list[Item]:
    now = dash.app.clock()
    plan = load_text(SMALL, name="harbour.yaml", base=Path("."), now=now)
    async with dash.app.db.transaction() as session:
        loaded = await consultations.load(session, plan, new_version=False, actor="test", now=now)
        loaded.status = "open"  # as `publish harbour-bill` in chat would (a draft takes no answers)
        return list(await ConsultationRepository(session).items(loaded))


async def vote(dash: DashApp, item: Item, platform: str, user: str, position: int) -> None:
    outcome = await dash.app.dispatch(People(platform).click(user, item.short_id, position))
    assert not outcome.failed


async def comment(dash: DashApp, item: Item, platform: str, user: str, text: str) -> None:
    """A comment or why on a clause or rating item (the chat flow stores it the same way)."""
    secret = dash.app.settings.secret_key.get_secret_value()
    now = dash.app.clock()
    async with dash.app.db.transaction() as session:
        person = await ParticipantRepository(session, secret).ensure(platform, user, now)
        await AnswerRepository(session).add(item, person, text, now)


def rows(markup: str, table_id: str) -> list[str]:
    """The body rows of a table as the text a reader sees, one string a row."""
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', markup, re.S)
    assert table is not None, f"no table {table_id}"
    body = table.group(0).split("<tbody", 1)[1]
    return [plain(row) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


async def upload(
    client: Client,
    yaml_name: str,
    yaml_text: str,
    documents: dict[str, str] | None = None,
    *,
    new_version: bool = False,
    csrf: str | None = None,
) -> Page:
    form = aiohttp.FormData()
    form.add_field("csrf", csrf if csrf is not None else await client.csrf("/consultations"))
    form.add_field("file", yaml_text.encode(), filename=yaml_name, content_type="application/yaml")
    for name, text in (documents or {}).items():
        form.add_field("documents", text.encode(), filename=name, content_type="text/markdown")
    if new_version:
        form.add_field("new_version", "yes")
    async with client.http.post("/consultations", data=form, allow_redirects=False) as response:
        return Page(response.status, response.headers, await response.read())


async def consultation_count(dash: DashApp) -> int:
    async with dash.app.db.transaction() as session:
        return int(await session.scalar(select(func.count(Consultation.id))) or 0)


async def audit(dash: DashApp, action: str) -> list[AuditEntry]:
    async with dash.app.db.transaction() as session:
        query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        return list((await session.execute(query)).scalars().all())


async def test_the_page_shows_progress_clauses_and_regulations(dash: DashApp) -> None:
    c1, c2, c3, reg1, reg2, ask = await load_small(dash)
    # ann answers everything; bob three items; cat one; dan only comments on clause 3.
    for item, position in ((c1, 1), (c2, 2), (c3, 3), (reg1, 1), (reg2, 3)):
        await vote(dash, item, "slack", "ann", position)
    await dash.answer(ask.short_id, "Fund the lifeboat station.", "ann", "slack")
    await vote(dash, c1, "telegram", "bob", 3)
    await vote(dash, c2, "telegram", "bob", 2)
    await comment(dash, c2, "telegram", "bob", "Charges should be capped.")
    await vote(dash, reg1, "telegram", "bob", 3)
    await vote(dash, c1, "discord", "cat", 1)
    await comment(dash, c3, "web", "dan", "Yearly is too often.")

    officer = await dash.sign_in("policy")
    page = await officer.get("/consultations/harbour-bill")
    assert page.status == 200, page.text
    text = plain(page.text)
    assert "Draft Harbour Bill" in text
    assert "4 people started (pressed Start or answered an item); 1 reached the end (25.0%" in text
    assert rows(page.text, "funnel-table") == [
        "Started 4 100.0%",
        "1. Clause 1: Moorings 3 75.0% 1",
        "2. Clause 2: Charges 2 50.0% 1",
        "3. Clause 3: Dredging 2 50.0% 0",
        "4. The Harbour Lights Order 1998 2 50.0% 0",
        "5. The Slipway Permits Regulations 2004 1 25.0% 1",
        "6. What else should the Bill do? 1 25.0% 0",
        "Completed 1 25.0%",
    ]
    # The chart is one image with a text equivalent; the table beside it has the figures.
    assert 'role="img" aria-label="Bar chart of progress' in page.text
    assert "Started: 4 people (100%)" in page.text and "Completed: 1 people (25%)" in page.text
    assert rows(page.text, "clauses-by-comments") == [
        "1 Clause 2: Charges 1 2",
        "2 Clause 3: Dredging 1 1",
        "3 Clause 1: Moorings 0 3",
    ]
    assert rows(page.text, "clauses-by-stance") == [
        "1 Clause 2: Charges 2 2 100.0%",
        "2 Clause 3: Dredging 1 1 100.0%",
        "3 Clause 1: Moorings 1 3 33.3%",
    ]
    assert rows(page.text, "regulations-table") == [
        "The Harbour Lights Order 1998 1 (50.0%) 0 (0.0%) 1 (50.0%) 2 0",
        "The Slipway Permits Regulations 2004 0 (0.0%) 0 (0.0%) 1 (100.0%) 1 0",
    ]
    headers = re.search(r'id="regulations-table".*?</thead>', page.text, re.S)
    assert headers is not None
    assert [plain(h) for h in re.findall(r"<th[^>]*>(.*?)</th>", headers.group(0), re.S)] == [
        "Regulation",
        "Improve",
        "Keep as is",
        "Scrap",
        "Votes",
        "Whys",
    ]
    for item in (c1, c2, c3, reg1, reg2, ask):
        assert f'href="/items/{item.short_id}"' in page.text
    for fmt in ("csv", "json", "ods"):
        assert f'href="/consultations/harbour-bill/export.{fmt}"' in page.text
    assert "style=" not in page.text  # the CSP blocks inline styles

    # A clause's page lists its comments with the answers' search, themes and moderation.
    clause_page = await officer.get(f"/items/{c2.short_id}?q=capped")
    assert "Charges should be capped." in plain(clause_page.text)
    assert 'id="filter-q"' in clause_page.text
    assert "Clause of a draft Bill" in plain(clause_page.text)

    listing = await officer.get("/consultations")
    assert 'href="/consultations/harbour-bill"' in listing.text
    assert rows(listing.text, "consultations-table")[0].startswith("Draft Harbour Bill")
    assert 'href="/consultations"' in (await officer.get("/items")).text  # in the navigation


async def test_exports_are_the_cli_exports_and_audited(dash: DashApp) -> None:
    c1, *_ = await load_small(dash)
    await vote(dash, c1, "slack", "ann", 2)
    officer = await dash.sign_in("policy")
    page = await officer.get("/consultations/harbour-bill/export.csv")
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/csv")
    assert "harbour-bill-v1" in page.headers["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(page.text)))
    assert [(r["consultation"], r["position"], r["clause"], r["option"]) for r in table] == [
        ("harbour-bill", "1", "1", "Needs changes")
    ]
    shown = json.loads((await officer.get("/consultations/harbour-bill/export.json")).text)
    assert shown["consultation"]["slug"] == "harbour-bill" and len(shown["responses"]) == 1
    ods = await officer.get("/consultations/harbour-bill/export.ods")
    assert ods.status == 200 and ods.body[:2] == b"PK"
    entries = await audit(dash, "export")
    assert [(e.actor, e.target) for e in entries] == [
        (officer.subject, "consultation:harbour-bill")
    ] * 3
    # Held and hidden answers are for moderators only.
    hidden = await officer.get("/consultations/harbour-bill/export.csv?include_hidden=1")
    assert hidden.status == 403
    assert (await officer.get("/consultations/no-such/export.csv")).status == 404


async def test_upload_a_good_file_with_its_clause_document(dash: DashApp) -> None:
    officer = await dash.sign_in("policy")
    yaml_text = (EXAMPLES / "dental-bill.yaml").read_text()
    bill = (EXAMPLES / "dental-bill.md").read_text()
    page = await upload(officer, "dental-bill.yaml", yaml_text, {"dental-bill.md": bill})
    assert page.status == 303, plain(page.text)
    assert page.location == "/consultations/dental-bill"
    shown = await officer.get(page.location)
    assert "Loaded dental-bill (version 1, 15 items) from dental-bill.yaml." in plain(shown.text)
    async with dash.app.db.transaction() as session:
        found = await ConsultationRepository(session).latest("dental-bill")
        assert found is not None
        items = await ConsultationRepository(session).items(found)
    assert len(items) == 15 and sum(i.kind == "clause" for i in items) == 8
    [entry] = await audit(dash, "consultation.load")
    assert entry.actor == officer.subject and entry.target == "consultation:dental-bill"


async def test_a_bad_file_shows_each_problem_with_file_and_line_and_loads_nothing(
    dash: DashApp, tmp_path: Path
) -> None:
    with pytest.raises(ConsultationFileError) as cli:  # what `townhall consultation load` says
        load_text(BAD, name="harbour.yaml", base=tmp_path, now=dash.app.clock())
    assert len(cli.value.problems) == 2
    officer = await dash.sign_in("policy")
    page = await upload(officer, "harbour.yaml", BAD)
    assert page.status == 400
    text = plain(page.text)
    assert "There is a problem" in text
    for problem in cli.value.problems:
        assert problem in text
    assert "harbour.yaml:1: slug:" in text and "harbour.yaml:17: items[2].kind:" in text
    # A clause document that was not sent with it is reported as the CLI reports it.
    missing = "slug: harbour-bill\ntitle: T\ncloses: 14d\nitems:\n  - kind: clauses\n"
    page = await upload(officer, "harbour.yaml", missing + "    document: harbour.md\n")
    assert "harbour.yaml:5: clauses: document harbour.md not found" in plain(page.text)
    assert await consultation_count(dash) == 0
    assert await audit(dash, "consultation.load") == []


async def test_a_document_outside_the_uploaded_files_is_refused(dash: DashApp) -> None:
    officer = await dash.sign_in("policy")
    for path in ("../../etc/passwd", "/etc/hostname", "sub/dental-bill.md", "../cy.md"):
        named = f"{{en: dental-bill.md, cy: {path}}}" if path == "../cy.md" else path  # issue 18
        text = (EXAMPLES / "dental-bill.yaml").read_text().replace("dental-bill.md", named)
        page = await upload(officer, "dental.yaml", text)
        assert page.status == 400
        assert f"clauses: document {path} must be the name of a file uploaded with it" in plain(
            page.text
        )
    for name in ("notes.txt", ""):
        page = await upload(officer, name, SMALL)
        assert page.status == 400
        assert "Choose a consultation file (.yaml or .yml) to upload" in plain(page.text)
    assert await consultation_count(dash) == 0


async def test_loading_again_replaces_until_answered_then_needs_a_new_version(
    dash: DashApp,
) -> None:
    officer = await dash.sign_in("policy")
    assert (await upload(officer, "harbour.yaml", SMALL)).status == 303
    assert (await upload(officer, "harbour.yaml", SMALL)).status == 303  # replaced
    async with dash.app.db.transaction() as session:
        current = await ConsultationRepository(session).latest("harbour-bill")
        assert current is not None and current.version == 1
        current.status = "open"  # published: now it takes answers
        first = (await ConsultationRepository(session).items(current))[0]
    await vote(dash, first, "slack", "ann", 1)
    page = await upload(officer, "harbour.yaml", SMALL)
    assert page.status == 400
    assert "harbour.yaml:1: slug: harbour-bill already has answers" in plain(page.text)
    page = await upload(officer, "harbour.yaml", SMALL, new_version=True)
    assert page.status == 303
    async with dash.app.db.transaction() as session:
        newest = await ConsultationRepository(session).latest("harbour-bill")
        assert newest is not None and newest.version == 2
    assert await consultation_count(dash) == 2


async def test_roles_and_csrf(dash: DashApp) -> None:
    await load_small(dash)
    anonymous = dash.anonymous()
    page = await anonymous.raw("/consultations/harbour-bill")
    assert page.status == 303 and page.location.startswith("/sign-in")
    moderator = await dash.sign_in("moderator")
    assert (await moderator.get("/consultations")).status == 403
    assert (await moderator.get("/consultations/harbour-bill")).status == 403
    assert (await moderator.get("/consultations/harbour-bill/export.csv")).status == 200
    token = await moderator.csrf("/moderation")
    refused = await upload(moderator, "other.yaml", SMALL.replace("harbour", "other"), csrf=token)
    assert refused.status == 403
    officer = await dash.sign_in("policy")
    forged = await upload(officer, "other.yaml", SMALL.replace("harbour", "other"), csrf="nope")
    assert forged.status == 403 and "Your form could not be sent" in plain(forged.text)
    assert await consultation_count(dash) == 1
    admin = await dash.sign_in("admin")
    assert (await admin.get("/consultations/harbour-bill")).status == 200
    assert (await admin.get("/consultations/no-such-thing")).status == 404


async def test_a_file_over_the_size_limit_is_refused_and_nothing_is_loaded(dash: DashApp) -> None:
    officer = await dash.sign_in("policy")
    padding = "# " + "x" * 1000 + "\n"
    page = await upload(officer, "harbour.yaml", SMALL + padding * 1100)
    assert page.status == 413
    assert "up to 1 MB in all" in plain(page.text)
    assert await consultation_count(dash) == 0
