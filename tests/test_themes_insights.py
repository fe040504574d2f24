"""Themes and the dashboard's read models give the same answers on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.events import Actor, Event, EventKind, Target
from storage.db import Database
from storage.insights import InsightsRepository
from storage.items import ItemRepository, NewItem, PublicationRepository
from storage.ledger import AuditLog
from storage.models import Answer, AnswerTheme, Item, Participant, Report, Vote
from storage.people import ParticipantRepository, PrivacyRepository
from storage.themes import ThemeRepository
from tests.support import RecordingAdapter
from townhall.app import Townhall

T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
SECRET = "k" * 32


@dataclass
class World:
    ask: Item
    poll: Item
    multi: Item
    people: list[Participant]
    answers: list[int]


async def person(session: AsyncSession, platform: str, user: str) -> Participant:
    return await ParticipantRepository(session, SECRET).ensure(platform, user, T0)


def answer(item: Item, who: Participant, text: str, at: datetime, **extra: object) -> Answer:
    return Answer(
        item_id=item.id,
        participant_id=who.id,
        platform=who.platform,
        text=text,
        status=extra.pop("status", "visible"),
        flags=[],
        created_at=at,
        **extra,
    )


def vote(item: Item, position: int, who: Participant, at: datetime) -> Vote:
    return Vote(
        item_id=item.id,
        option_id=item.options[position - 1].id,
        participant_id=who.id,
        multi=item.kind == "multi",
        platform=who.platform,
        created_at=at,
    )


async def build(db: Database) -> World:
    async with db.transaction() as session:
        items = ItemRepository(session)
        ask = await items.create(
            NewItem("ask", "What would make the High Street better?", [], "test:officer", T0)
        )
        poll = await items.create(
            NewItem(
                "poll",
                "Open the library on Sundays?",
                ["Yes", "No"],
                "test:officer",
                T0 + timedelta(minutes=1),
            )
        )
        multi = await items.create(
            NewItem(
                "multi",
                "Which parks need benches?",
                ["North", "South", "East"],
                "test:officer",
                T0 + timedelta(minutes=2),
            )
        )
        people = [
            await person(session, "slack", "U1"),
            await person(session, "slack", "U2"),
            await person(session, "telegram", "77"),
        ]
        a, b, c = people
        texts = [
            (a, "More buses, please", T0 + timedelta(minutes=5), {}),
            (b, "Fewer empty shops; 100% agree", T0 + timedelta(minutes=30), {}),
            (c, "Benches and BUS shelters", T0 + timedelta(minutes=50), {}),
            (a, "held for review", T0 + timedelta(minutes=40), {"status": "held"}),
            (b, "hidden one", T0 + timedelta(minutes=45), {"status": "hidden"}),
            (c, "flagged but shown", T0 + timedelta(hours=1, minutes=5), {"needs_review": True}),
        ]
        rows = [answer(ask, who, text, at, **extra) for who, text, at, extra in texts]
        rows[3].needs_review = True
        session.add_all(rows)
        session.add_all(
            [
                vote(poll, 1, a, T0 + timedelta(minutes=5)),
                vote(poll, 2, b, T0 + timedelta(minutes=55)),
                vote(poll, 1, c, T0 + timedelta(hours=1, minutes=10)),
                # one multi-choice ballot of two options counts once
                vote(multi, 1, a, T0 + timedelta(minutes=20)),
                vote(multi, 2, a, T0 + timedelta(minutes=20)),
                vote(multi, 3, b, T0 + timedelta(days=1, minutes=3)),
            ]
        )
        await session.flush()
        session.add(Report(answer_id=rows[1].id, reporter_id=a.id, created_at=T0))
        session.add(Report(answer_id=rows[1].id, reporter_id=c.id, created_at=T0))
        pubs = PublicationRepository(session)
        await pubs.add(ask, "slack", "C1", None, T0)
        await pubs.add(ask, "telegram", "-1001", None, T0 + timedelta(minutes=1))
        await pubs.add(poll, "slack", "C1", None, T0 + timedelta(minutes=3))
        await pubs.add(poll, "slack", "C1", "1700.1", T0 + timedelta(minutes=2))
        await pubs.add(poll, "slack", "D9", None, T0 + timedelta(minutes=9), private=True)
        await pubs.add(multi, "web", "public", None, T0 + timedelta(minutes=4))
        return World(ask, poll, multi, people, [r.id for r in rows])


async def test_themes_are_idempotent_and_counted(db: Database) -> None:
    w = await build(db)
    async with db.transaction() as session:
        themes = ThemeRepository(session)
        transport = await themes.create(w.ask, "  Public   transport ", "a@x.org", T0)
        assert transport.name == "Public transport"
        again = await themes.create(w.ask, "public TRANSPORT", "b@x.org", T0)
        assert again.id == transport.id
        shops = await themes.create(w.ask, "Empty shops", "a@x.org", T0)
        other = await themes.create(w.poll, "Public transport", "a@x.org", T0)
        assert other.id != transport.id
        for bad in ["", "   ", "x" * 61]:
            with pytest.raises(ValueError):
                await themes.create(w.ask, bad, "a@x.org", T0)
        assert (await themes.create(w.ask, "y" * 60, "a@x.org", T0)).name == "y" * 60
        assert await themes.tag(w.answers[0], transport.id, "a@x.org", T0)
        assert not await themes.tag(w.answers[0], transport.id, "a@x.org", T0)
        assert await themes.tag(w.answers[2], transport.id, "a@x.org", T0)
        assert await themes.tag(w.answers[2], shops.id, "a@x.org", T0)
        with pytest.raises(ValueError):
            await themes.tag(w.answers[0], other.id, "a@x.org", T0)
        tid, sid = transport.id, shops.id
    async with db.transaction() as session:
        themes = ThemeRepository(session)
        listed = [(t.name, n) for t, n in await themes.for_item(w.ask.id)]
        assert listed == [("Empty shops", 1), ("Public transport", 2), ("y" * 60, 0)]
        found = await themes.themes_for_answers([w.answers[0], w.answers[2], w.answers[1]])
        assert [t.name for t in found[w.answers[2]]] == ["Empty shops", "Public transport"]
        assert [t.name for t in found[w.answers[0]]] == ["Public transport"]
        assert found[w.answers[1]] == []
        assert await themes.themes_for_answers([]) == {}
        assert await themes.untag(w.answers[2], sid)
        assert not await themes.untag(w.answers[2], sid)
        got = await themes.get(tid)
        assert got is not None and got.item_id == w.ask.id
        assert await themes.get(tid + 1000) is None


async def test_over_time_buckets_match_on_both_backends(db: Database) -> None:
    w = await build(db)
    async with db.transaction() as session:
        insights = InsightsRepository(session)
        # held and hidden answers are not counted
        assert await insights.over_time(w.ask, "hour") == [
            (T0, 3),
            (T0 + timedelta(hours=1), 1),
        ]
        assert await insights.over_time(w.ask, "day") == [(datetime(2026, 11, 28, tzinfo=UTC), 4)]
        assert await insights.over_time(w.poll, "hour") == [
            (T0, 2),
            (T0 + timedelta(hours=1), 1),
        ]
        assert await insights.over_time(w.multi, "day") == [
            (datetime(2026, 11, 28, tzinfo=UTC), 1),
            (datetime(2026, 11, 29, tzinfo=UTC), 1),
        ]
        buckets = await insights.over_time(w.poll, "hour")
        assert all(at.tzinfo is not None and at.utcoffset() == timedelta(0) for at, _ in buckets)


async def test_answers_filters_and_paging(db: Database) -> None:
    w = await build(db)
    async with db.transaction() as session:
        theme = await ThemeRepository(session).create(w.ask, "Transport", "a@x.org", T0)
        await ThemeRepository(session).tag(w.answers[2], theme.id, "a@x.org", T0)
        insights = InsightsRepository(session)

        rows, total = await insights.answers(w.ask)
        assert total == 6
        assert [r.answer.id for r in rows] == [w.answers[i] for i in (0, 1, 3, 4, 2, 5)]
        assert [r.reports for r in rows][:2] == [0, 2]

        rows, total = await insights.answers(w.ask, q="bus")
        assert total == 2 and {r.answer.text for r in rows} == {
            "More buses, please",
            "Benches and BUS shelters",
        }
        rows, total = await insights.answers(w.ask, q="100%")
        assert total == 1 and rows[0].answer.id == w.answers[1]
        _, total = await insights.answers(w.ask, q="0%a")  # % is not a wildcard
        assert total == 0
        rows, total = await insights.answers(w.ask, platform="telegram")
        assert total == 2 and all(r.answer.platform == "telegram" for r in rows)
        rows, total = await insights.answers(w.ask, status="held")
        assert total == 1 and rows[0].answer.text == "held for review"
        rows, total = await insights.answers(w.ask, theme_id=theme.id)
        assert total == 1 and [t.name for t in rows[0].themes] == ["Transport"]
        rows, total = await insights.answers(w.ask, status="visible", q="bu")
        assert total == 3  # "buses", "BUS", "but"

        page2, total = await insights.answers(w.ask, page=2, per_page=4)
        assert total == 6 and [r.answer.id for r in page2] == [w.answers[2], w.answers[5]]
        beyond, total = await insights.answers(w.ask, page=9, per_page=4)
        assert beyond == [] and total == 6


async def test_audit_filters_and_paging(db: Database) -> None:
    async with db.transaction() as session:
        log = AuditLog(session)
        await log.record("dashboard:a@x.org", "answer.hide", "answer:1", T0)
        await log.record("dashboard:a@x.org", "answer.restore", "answer:1", T0 + timedelta(1))
        await log.record("cli", "role.grant", "slack:U1", T0 + timedelta(2))
        await log.record("dashboard:b@x.org", "answers_export", "item:2", T0 + timedelta(3))
        await log.record("dashboard:b@x.org", "answer.hide", "answer:2", T0 + timedelta(4))
    async with db.transaction() as session:
        insights = InsightsRepository(session)
        entries, total = await insights.audit()
        assert total == 5 and [e.action for e in entries][0:2] == ["answer.hide", "answers_export"]
        entries, total = await insights.audit(action="answer.")
        assert total == 3 and [e.target for e in entries] == ["answer:2", "answer:1", "answer:1"]
        _, total = await insights.audit(action="answer_")  # _ is not a wildcard
        assert total == 0
        entries, total = await insights.audit(actor="dashboard:a@x.org")
        assert total == 2
        entries, total = await insights.audit(target="answer:1", action="answer.hide")
        assert total == 1 and entries[0].actor == "dashboard:a@x.org"
        entries, total = await insights.audit(page=2, per_page=2)
        assert total == 5 and [e.action for e in entries] == ["role.grant", "answer.restore"]


async def test_overview_filters_and_respondents(db: Database) -> None:
    w = await build(db)
    async with db.transaction() as session:
        insights = InsightsRepository(session)
        rows, total = await insights.overview()
        assert total == 3
        assert [r.item.id for r in rows] == [w.multi.id, w.poll.id, w.ask.id]
        by_id = {r.item.id: r for r in rows}
        assert by_id[w.ask.id].respondents == 3
        assert by_id[w.ask.id].answers_waiting == 2
        assert by_id[w.poll.id].respondents == 3 and by_id[w.poll.id].answers_waiting == 0
        assert by_id[w.multi.id].respondents == 2
        assert by_id[w.ask.id].publications == [("slack", "C1"), ("telegram", "-1001")]
        assert by_id[w.poll.id].publications == [("slack", "C1")]  # the DM is left out

        rows, total = await insights.overview(kind="poll")
        assert total == 1 and rows[0].item.id == w.poll.id
        rows, total = await insights.overview(platform="telegram")
        assert total == 1 and rows[0].item.id == w.ask.id
        rows, total = await insights.overview(q="high street")
        assert total == 1 and rows[0].item.id == w.ask.id
        rows, total = await insights.overview(q=w.poll.short_id.upper())
        assert total == 1 and rows[0].item.id == w.poll.id
        await ItemRepository(session).close(w.poll, T0 + timedelta(hours=2))
        rows, total = await insights.overview(status="closed")
        assert total == 1 and rows[0].item.id == w.poll.id
        rows, total = await insights.overview(status="open", limit=1, offset=1)
        assert total == 2 and [r.item.id for r in rows] == [w.ask.id]
        rows, total = await insights.overview(q="nothing like this")
        assert rows == [] and total == 0


async def test_known_channels_distinct_and_public(db: Database) -> None:
    await build(db)
    async with db.transaction() as session:
        channels = await InsightsRepository(session).known_channels()
    assert [(c.platform, c.channel_id, c.thread_id) for c in channels] == [
        ("web", "public", None),
        ("slack", "C1", None),
        ("slack", "C1", "1700.1"),
        ("telegram", "-1001", None),
    ]
    assert channels[1].last_used == T0 + timedelta(minutes=3)
    assert all(c.last_used.tzinfo is not None for c in channels)


async def test_erasure_removes_tags(db: Database) -> None:
    w = await build(db)
    async with db.transaction() as session:
        themes = ThemeRepository(session)
        theme = await themes.create(w.ask, "Transport", "a@x.org", T0)
        await themes.tag(w.answers[0], theme.id, "a@x.org", T0)  # by person a
        await themes.tag(w.answers[1], theme.id, "a@x.org", T0)  # by person b
        a = await session.get(Participant, w.people[0].id)
        assert a is not None
        await PrivacyRepository(session).erase(a)
    async with db.transaction() as session:
        tagged = await session.execute(select(AnswerTheme.answer_id))
        assert tagged.scalars().all() == [w.answers[1]]
        assert [n for _, n in await ThemeRepository(session).for_item(w.ask.id)] == [1]
        count = await session.scalar(
            select(func.count(Answer.id)).where(Answer.item_id == w.ask.id)
        )
        assert count == 4


async def test_publishing_in_a_private_chat_is_not_a_known_channel(
    app: tuple[Townhall, RecordingAdapter],
) -> None:
    townhall, _ = app
    officer = Actor("officer", "Olivia")
    for channel, private in [("D42", True), ("C7", False)]:
        event = Event(
            "test",
            f"e-{channel}",
            EventKind.COMMAND,
            officer,
            Target(channel, message_id="m1", private=private),
            text='poll "Sunday opening?" "Yes" "No"',
        )
        await townhall.dispatch(event)
    async with townhall.db.transaction() as session:
        channels = await InsightsRepository(session).known_channels()
        rows, total = await InsightsRepository(session).overview()
    assert [(c.platform, c.channel_id) for c in channels] == [("test", "C7")]
    assert total == 2
    assert sorted(r.publications for r in rows) == [[], [("test", "C7")]]
