"""``townhall demo``: a realistic sample made through the real handlers (SQLite, PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import Settings
from services import results
from services.consultation_file import load_file
from storage.consultation_insights import ConsultationInsights
from storage.consultations import ConsultationRepository
from storage.db import Database
from storage.items import ItemRepository
from storage.models import Answer, AuditEntry, OutboxMessage, Publication, Vote
from storage.outbox import OutboxRepository
from tests.conftest import SECRET
from townhall.demo import PLATFORMS, DemoRefused, DemoReport, populate
from townhall.demo.consultation import DEMO_FILE

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


@pytest.fixture
def demo_settings(db_url: str) -> Settings:
    return Settings(
        database_url=db_url,
        secret_key=SECRET,  # type: ignore[arg-type]
        env="production",  # explicit consent by default: the demo must still work
        _env_file=None,  # type: ignore[call-arg]
    )


async def test_demo_fills_every_corner_of_the_dashboard(
    demo_settings: Settings, db: Database
) -> None:
    report = await populate(demo_settings, db=db, now=NOW)

    kinds = {kind for _, kind, _, _ in report.items}
    assert kinds == {"poll", "multi", "scale", "ask"}
    assert [s for _, _, s, _ in report.items].count("closed") == 1
    assert report.votes >= 100 and report.answers >= 15 and report.participants >= 60
    async with db.transaction() as session:
        summaries = {}
        for short_id, *_ in report.items:
            item = await ItemRepository(session).by_short_id(short_id)
            assert item is not None
            summaries[item.kind] = await results.compute(session, item, include_hidden=True)
        # Choice items are answered from every platform, with no option left empty.
        for kind in ("poll", "multi", "scale"):
            assert set(summaries[kind].by_platform) == set(PLATFORMS)
            assert all(o.votes > 0 for o in summaries[kind].options)
        answers = (await session.execute(select(Answer).order_by(Answer.id))).scalars().all()
        votes = (await session.execute(select(Vote.created_at))).scalars().all()
        audit = (await session.execute(select(AuditEntry))).scalars().all()
        pubs = (await session.execute(select(Publication))).scalars().all()
        pending = await OutboxRepository(session).pending()

    # Screening, reports and moderation really happened: held, hidden and redacted answers.
    statuses = {a.status for a in answers}
    assert statuses == {"visible", "held", "hidden"}
    flags = {f for a in answers for f in a.flags}
    assert {"abuse", "personal:phone", "personal:email", "spam:repeat"} <= flags
    assert any(a.redacted and "[email removed]" in a.text for a in answers)
    assert {a.platform for a in answers} == set(PLATFORMS)
    actions = {e.action for e in audit}
    assert {
        "item.create",
        "item.publish",
        "item.close",
        "answer.auto_hide",
        "answer.redact",
        "answer.hide",
    } <= actions
    assert report.to_review >= 3 and report.reports >= 4 and report.decisions == 2
    # Timestamps are spread over the past week, none in the future.
    days = {v.date() for v in votes}
    assert len(days) >= 4 and max(votes) <= NOW and min(votes) >= NOW - timedelta(days=8)
    # Nothing is left for a real adapter to post to the made-up chats.
    assert pending == []
    assert all(p.message_id for p in pubs)
    assert {p.platform for p in pubs} == set(PLATFORMS)
    web = {p.message_id for p in pubs if p.platform == "web"}
    assert web == {f"/c/{short_id}" for short_id, *_ in report.items}  # the web chat pages

    await check_consultation(db, report)
    with pytest.raises(DemoRefused, match="--force"):
        await populate(demo_settings, db=db, now=NOW)


async def check_consultation(db: Database, report: DemoReport) -> None:
    """The consultation was answered item by item from every platform, so its page has shapes."""
    shown = report.consultation
    assert shown is not None and shown.slug == "dental-bill" and shown.items == 15
    assert shown.started >= 25 and 3 <= shown.completed < shown.started
    async with db.transaction() as session:
        repo = ConsultationRepository(session)
        consultation = await repo.latest("dental-bill")
        assert consultation is not None and consultation.status == "open"
        items = list(await repo.items(consultation))
        ids = [i.id for i in items]
        insights = ConsultationInsights(session)
        funnel = await insights.funnel(consultation, len(items))
        votes = await insights.option_votes(ids)
        texts = await insights.texts(ids)
        of_items = Vote.item_id.in_(ids)
        rows = (await session.execute(select(Vote.platform, Vote.created_at).where(of_items))).all()
        answers = (
            (await session.execute(select(Answer).where(Answer.item_id.in_(ids)))).scalars().all()
        )
    # People drop off along the way: the last item has fewer than the first.
    first, last = funnel.per_item[items[0].id], funnel.per_item[items[-1].id]
    assert funnel.started >= first > last > 0
    assert (funnel.started, funnel.completed) == (shown.started, shown.completed)
    # Every clause has stances, and the contested ones show: each stance is taken somewhere.
    clauses = [i for i in items if i.kind == "clause"]
    ratings = [i for i in items if i.kind == "rating"]
    assert len(clauses) == 8 and len(ratings) == 4
    assert all(sum(votes[i.id].values()) > 0 for i in clauses + ratings)
    for position in (1, 2, 3):
        assert any(votes[i.id].get(position) for i in clauses)
        assert any(votes[i.id].get(position) for i in ratings)
    assert sum(texts[i.id] for i in clauses) >= 5 and sum(texts[i.id] for i in ratings) >= 3
    assert texts[items[-1].id] > 0  # the open question at the end
    assert {p for p, _ in rows} == set(PLATFORMS)
    assert {a.platform for a in answers} <= set(PLATFORMS) and len(answers) >= 10
    assert all(NOW - timedelta(days=8) <= at <= NOW for _, at in rows)


def test_the_demo_consultation_is_the_example_closing_three_weeks_after_it_opens() -> None:
    assert (DEMO_FILE.parent / "dental-bill.md").read_text() == (
        EXAMPLES / "dental-bill.md"
    ).read_text()
    example = load_file(EXAMPLES / "dental-bill.yaml", now=NOW)
    demo = load_file(DEMO_FILE, now=NOW)
    assert demo.closes_at == NOW + timedelta(days=21)
    assert replace(demo, closes_at=example.closes_at, source=example.source) == example


async def test_force_adds_a_second_sample_and_leaves_real_messages_alone(
    demo_settings: Settings, db: Database
) -> None:
    # A real, pending message queued by a running bot before the demo was forced in.
    async with db.transaction() as session:
        await OutboxRepository(session).send(
            platform="slack", channel_id="CREAL", view={"type": "notice", "text": "hi"}, at=NOW
        )
    small = dict.fromkeys(PLATFORMS, 8)
    first = await populate(demo_settings, db=db, now=NOW, force=True, crowd=small)
    second = await populate(demo_settings, db=db, now=NOW, force=True, seed=7, crowd=small)
    assert {i[0] for i in first.items}.isdisjoint(i[0] for i in second.items)
    async with db.transaction() as session:
        pending = await OutboxRepository(session).pending()
        assert [(m.platform, m.channel_id) for m in pending] == [("slack", "CREAL")]
        listed = await ItemRepository(session).list(limit=100)
        assert first.consultation is not None and second.consultation is not None
        assert len(listed) == 2 * (len(first.items) + first.consultation.items)
        # The second sample is the consultation's next version; the first keeps its answers.
        newest = await ConsultationRepository(session).latest("dental-bill")
        assert newest is not None and newest.version == 2
        sent = (
            await session.execute(select(OutboxMessage).where(OutboxMessage.status == "sent"))
        ).scalars()
        assert all(m.channel_id != "CREAL" for m in sent)


def test_cli_demo_prints_next_steps_and_refuses_twice(db_url: str, db: Database) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOWNHALL_")}
    env.update(TOWNHALL_DATABASE_URL=db_url, TOWNHALL_SECRET_KEY=SECRET)

    def demo(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "townhall.cli", "demo", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )

    first = demo()
    assert first.returncode == 0, first.stderr
    assert "townhall users add" in first.stdout and "townhall run" in first.stdout
    assert "/c/" in first.stdout and "votes" in first.stdout
    assert "/consultations/dental-bill" in first.stdout
    again = demo()
    assert again.returncode == 1
    assert "already holds" in again.stderr and "--force" in again.stderr
