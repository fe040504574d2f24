"""Consultations in the database: load, replace, new versions, show/list/results/export shapes."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete

from bot.config import Settings
from services import consultation_exports, consultations
from services.consultation_file import ConsultationPlan, load_file
from storage.consultations import ConsultationRepository
from storage.db import Database
from storage.items import ItemRepository
from storage.models import Consultation, Item
from storage.people import ParticipantRepository
from storage.responses import AnswerRepository
from storage.vote_batches import VoteBatchRepository, VoteRow
from tests.dashboard_support import plain, start_dashboard
from tests.support import FakeClock, People

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "dental-bill.yaml"
SECRET = "consultation-test-secret"
ITEM_KEYS = {"id", "kind", "position", "question", "options"}


def plan() -> ConsultationPlan:
    return load_file(EXAMPLE, now=NOW)


async def load(db: Database, *, new_version: bool = False) -> dict[str, Any]:
    async with db.transaction() as session:
        loaded = await consultations.load(
            session, plan(), new_version=new_version, actor="cli", now=NOW
        )
        return await consultations.show(session, loaded, NOW)


async def respond(db: Database, user: str, item_ids: list[str], why: str | None = None) -> None:
    """``user`` picks the first option of each item (and writes ``why`` on rating/clause)."""
    async with db.transaction() as session:
        person = await ParticipantRepository(session, SECRET).ensure("telegram", user, NOW)
        repo = ConsultationRepository(session)
        found = await repo.latest("dental-bill")
        assert found is not None
        by_id = {item.short_id: item for item in await repo.items(found)}
        for short_id in item_ids:
            item = by_id[short_id]
            if item.kind == "ask":
                await AnswerRepository(session).add(item, person, "More dentists.", NOW)
                continue
            vote = VoteRow(item.id, person.id, item.options[0].id, "telegram")
            await VoteBatchRepository(session, SECRET).write(NOW, single=[vote])
            if why and item.kind in ("rating", "clause"):
                await AnswerRepository(session).add(item, person, why, NOW)


async def test_loading_the_example_writes_the_consultation_and_its_items(db: Database) -> None:
    shown = await load(db)
    assert {k: shown[k] for k in ("slug", "title", "status", "participants", "completed")} == {
        "slug": "dental-bill",
        "title": "Draft Dental Services Bill",
        "status": "draft",
        "participants": 0,
        "completed": 0,
    }
    assert shown["introduction"].startswith("We want your views")
    assert shown["closes"] == "2027-01-31T17:00:00+00:00" and shown["topics"] == ["health"]
    items = shown["items"]
    assert [i["position"] for i in items] == list(range(1, 16))
    assert [i["kind"] for i in items] == ["scale", *["clause"] * 8, *["rating"] * 4, "poll", "ask"]
    clause, rating = items[1], items[9]
    assert set(clause) == ITEM_KEYS | {"clause"} and set(rating) == ITEM_KEYS | {"regulation"}
    assert clause["clause"]["number"] == "1" and clause["clause"]["title"] == "Duty to commission"
    assert clause["options"] == ["Agree", "Needs changes", "Disagree"]
    assert rating["regulation"] == {
        "title": "The Dental Records (Retention) Regulations 2009",
        "summary": "Practices must keep records for 11 years.",
    }
    assert rating["options"] == ["Improve", "Keep as is", "Scrap"]
    assert set(items[0]) == set(items[-1]) == ITEM_KEYS


async def test_loading_again_replaces_while_no_one_has_answered(db: Database) -> None:
    first = await load(db)
    second = await load(db)
    assert second["version"] == 1 and len(second["items"]) == 15
    assert {i["id"] for i in first["items"]}.isdisjoint({i["id"] for i in second["items"]})
    async with db.transaction() as session:
        listed = await consultations.listing(session, NOW)
    assert listed == [
        {
            "slug": "dental-bill",
            "title": "Draft Dental Services Bill",
            "status": "draft",
            "closes": "2027-01-31T17:00:00+00:00",
            "items": 15,
            "participants": 0,
            "completed": 0,
        }
    ]


async def test_answers_make_loading_refuse_unless_new_version(db: Database) -> None:
    shown = await load(db)
    await respond(db, "u1", [shown["items"][0]["id"]])
    with pytest.raises(consultations.ConsultationConflict) as refused:
        await load(db)
    assert str(refused.value).startswith(f"{EXAMPLE}:3: slug: dental-bill already has answers")
    again = await load(db, new_version=True)
    assert again["version"] == 2 and again["participants"] == 0
    async with db.transaction() as session:
        listed = await consultations.listing(session, NOW)
        old = await session.get(Consultation, 1)
        assert old is not None and old.status == "superseded"
        old_items = await ConsultationRepository(session).items(old)
        assert {i.status for i in old_items} == {"closed"}
    assert [row["slug"] for row in listed] == ["dental-bill"]  # the newest version only


async def test_participants_and_completed(db: Database) -> None:
    shown = await load(db)
    ids = [i["id"] for i in shown["items"]]
    await respond(db, "everything", ids)
    await respond(db, "half", ids[:7])
    async with db.transaction() as session:
        found = await ConsultationRepository(session).latest("dental-bill")
        assert found is not None
        again = await consultations.show(session, found, NOW)
        closed = await consultations.show(session, found, datetime(2027, 2, 1, tzinfo=UTC))
    assert (again["participants"], again["completed"]) == (2, 1)
    assert closed["status"] == "closed"  # past its closing time


async def test_rating_and_clause_results_keep_the_results_shape(db: Database) -> None:
    shown = await load(db)
    clause_id, rating_id = shown["items"][1]["id"], shown["items"][9]["id"]
    await respond(db, "a", [clause_id, rating_id], why="Too vague.")
    await respond(db, "b", [rating_id])
    async with db.transaction() as session:
        repo = ConsultationRepository(session)
        found = await repo.latest("dental-bill")
        assert found is not None
        by_id = {i.short_id: i for i in await repo.items(found)}
        rating = (await consultations.item_results(session, by_id[rating_id])).to_json()
        clause = (await consultations.item_results(session, by_id[clause_id])).to_json()
    assert set(rating) == {
        "id",
        "kind",
        "question",
        "status",
        "participants",
        "responses",
        "options",
        "by_platform",
        "answers",
    }
    assert rating["kind"] == "rating"
    assert rating["options"] == [
        {"label": "Improve", "votes": 2},
        {"label": "Keep as is", "votes": 0},
        {"label": "Scrap", "votes": 0},
    ]
    assert rating["answers"] == [
        # written straight to the database, with no reader's language recorded
        {"text": "Too vague.", "platform": "telegram", "status": "visible", "language": ""}
    ]
    assert [o["label"] for o in clause["options"]] == ["Agree", "Needs changes", "Disagree"]
    assert [a["text"] for a in clause["answers"]] == ["Too vague."]


async def _export(db: Database, fmt: str) -> bytes:
    async with db.transaction() as session:
        repo = ConsultationRepository(session)
        found = await repo.latest("dental-bill")
        assert found is not None
        out = io.BytesIO()
        items: list[Item] = list(await repo.items(found))
        await consultation_exports.write(
            session, found, items, fmt, out, include_hidden=False, at=NOW + timedelta(days=1)
        )
        return out.getvalue()


async def test_exports_have_a_row_per_response_with_its_place(db: Database) -> None:
    shown = await load(db)
    ids = [i["id"] for i in shown["items"]]
    await respond(db, "a", [ids[1], ids[9], ids[14]], why="=cmd|' /C calc'!A0")
    rows = list(csv.DictReader(io.StringIO((await _export(db, "csv")).decode())))
    assert [(r["position"], r["kind"], r["clause"], r["option"]) for r in rows] == [
        ("2", "clause", "1", "Agree"),
        ("2", "clause", "1", ""),
        ("10", "rating", "", "Improve"),
        ("10", "rating", "", ""),
        ("15", "ask", "", ""),
    ]
    assert {r["consultation"] for r in rows} == {"dental-bill"}
    assert rows[2]["regulation"] == "The Dental Records (Retention) Regulations 2009"
    assert rows[1]["text"].startswith("'=")  # formulas neutralised, as in every export
    whole = json.loads(await _export(db, "json"))
    assert whole["consultation"]["slug"] == "dental-bill" and len(whole["responses"]) == 5
    assert whole["responses"][0]["position"] == 2
    ods = await _export(db, "ods")
    with zipfile.ZipFile(io.BytesIO(ods)) as archive:
        content = archive.read("content.xml").decode()
    for sheet in ("Scales", "Clauses", "Ratings", "Polls", "Questions", "Summary"):
        assert f'table:name="{sheet}"' in content
    assert "Comments (answers)" in content and "Why (answers)" in content


async def test_the_consultation_migration_goes_down_and_up_again(db: Database) -> None:
    """Revision 0010 undone (items' kind check restored, columns dropped) and redone, keeping
    the items already stored."""
    from alembic import command
    from alembic.script import ScriptDirectory
    from sqlalchemy.engine import Connection

    from storage import migrate

    await load(db)
    revision = ScriptDirectory.from_config(migrate.alembic_config()).get_revision("0010")
    assert revision is not None
    below = str(revision.down_revision)

    def down(connection: Connection) -> None:
        command.downgrade(migrate.alembic_config(connection), below)

    async with db.transaction() as session:
        await session.execute(delete(Item).where(Item.kind.in_(("rating", "clause"))))
    if db.is_sqlite:
        async with db.engine.connect() as conn:
            await conn.run_sync(migrate._run_without_foreign_keys, down)
    else:
        async with db.engine.begin() as conn:
            await conn.run_sync(down)
    assert await migrate.current(db) == below
    await migrate.upgrade(db)
    assert await migrate.current(db) == migrate.head()
    async with db.transaction() as session:
        assert await ItemRepository(session).count() == 3  # scale, poll, ask survived


async def test_rating_and_clause_items_have_cards(db: Database) -> None:
    """A consultation item's card (shown when it closes at its deadline) names its kind."""
    from services import cards

    shown = await load(db)
    async with db.transaction() as session:
        repo = ConsultationRepository(session)
        found = await repo.latest("dental-bill")
        assert found is not None
        for item in await repo.items(found):
            summary = await consultations.item_results(session, item)
            card = cards.item_card(item, summary)
            closing = cards.results_card(item, summary, show_answers=True)
            assert card.footer.startswith(cards.KIND_NAMES[item.kind])
            assert closing.title == f"Results: {item.question}"
    assert {i["kind"] for i in shown["items"]} <= set(cards.KIND_NAMES)


async def test_consultation_items_work_as_ordinary_items_on_the_dashboard(
    settings: Settings, db: Database, clock: FakeClock
) -> None:
    """A vote on a clause through the real vote path; the item pages show rating and clause."""
    shown = await load(db)
    clause, rating = shown["items"][1]["id"], shown["items"][9]["id"]
    async with db.transaction() as session:  # published: a draft's items take no votes
        found = await ConsultationRepository(session).latest("dental-bill")
        assert found is not None
        found.status = "open"
    async for dash in start_dashboard(settings, db, clock):
        outcome = await dash.app.dispatch(People("telegram").click("ann", clause, 2))
        assert "Needs changes" in outcome.notices[0].text
        officer = await dash.sign_in("policy")
        for short_id, label in ((clause, "Needs changes 1"), (rating, "Improve 0")):
            page = await officer.get(f"/items/{short_id}")
            assert page.status == 200 and label in plain(page.text)
        listing = await officer.get("/items")
        assert listing.status == 200 and "Clause 1: Duty to commission" in plain(listing.text)
