"""The core behaviour, through a recording adapter, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from bot.errors import DeliveryError
from bot.views import Card, Notice
from services import results
from storage.items import ItemRepository
from storage.models import Answer, AuditEntry, OutboxMessage, ProcessedEvent, Vote
from tests.support import FakeClock, People, RecordingAdapter
from townhall.app import Townhall

App = tuple[Townhall, RecordingAdapter]


def text_of(outcome_notices: list[object]) -> str:
    return "\n".join(n.text if isinstance(n, Notice) else str(n) for n in outcome_notices)


async def create(app: Townhall, people: People, command: str, user: str = "officer") -> str:
    outcome = await app.dispatch(people.command(user, command))
    notice = text_of(outcome.notices)
    match = re.search(r"Published \w+ (\w{6})", notice)
    assert match, notice
    await app.deliverer.drain()
    return match.group(1)


async def tally(app: Townhall, short_id: str, include_hidden: bool = False) -> dict[str, object]:
    async with app.db.transaction() as session:
        item = await ItemRepository(session).by_short_id(short_id)
        assert item is not None
        return (await results.compute(session, item, include_hidden=include_hidden)).to_json()


async def count(app: Townhall, model: type) -> int:
    async with app.db.transaction() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_poll_is_published_and_votes_counted(app: App, people: People) -> None:
    townhall, adapter = app
    poll = await create(townhall, people, 'poll "Open the library on Sundays?" "Yes" "No" "Unsure"')
    card = adapter.cards()[0]
    assert card.title == "Open the library on Sundays?"
    assert [b.label for b in card.buttons] == ["Yes", "No", "Unsure"]
    assert all(len(b.custom_id.encode()) <= 64 for b in card.buttons)

    for user, choice in [("ann", 1), ("bob", 2), ("cat", 1)]:
        outcome = await townhall.dispatch(people.click(user, poll, choice))
        assert "recorded" in text_of(outcome.notices)
    changed = await townhall.dispatch(people.click("bob", poll, 1))  # bob changes his mind
    assert "now “Yes”" in text_of(changed.notices)
    same = await townhall.dispatch(people.click("bob", poll, 1))
    assert "already" in text_of(same.notices)
    await townhall.deliverer.drain()

    result = await tally(townhall, poll)
    assert result["participants"] == 3 and result["responses"] == 3
    assert result["options"] == [
        {"label": "Yes", "votes": 3},
        {"label": "No", "votes": 0},
        {"label": "Unsure", "votes": 0},
    ]
    assert result["by_platform"] == {"test": 3}
    edited = adapter.sent[0].current
    assert isinstance(edited, Card) and [b.votes for b in edited.bars] == [3, 0, 0]


async def test_live_refresh_coalesces_many_votes_into_few_edits(
    app: App, people: People, clock: FakeClock
) -> None:
    townhall, adapter = app
    townhall.settings.refresh_interval = 2.0
    poll = await create(townhall, people, 'poll "Q?" "A" "B"')
    for n in range(25):
        await townhall.dispatch(people.click(f"p{n}", poll, 1 + n % 2))
    await townhall.deliverer.drain()
    assert adapter.sent[0].edits == []  # not due yet
    clock.advance(seconds=2)
    await townhall.deliverer.drain()
    assert len(adapter.sent[0].edits) == 1
    bars = adapter.sent[0].current.bars  # type: ignore[union-attr]
    assert [b.votes for b in bars] == [13, 12]


async def test_multi_choice_toggles(app: App, people: People) -> None:
    townhall, _ = app
    poll = await create(townhall, people, 'poll "Which days?" "Mon" "Tue" "Wed" --multi')
    await townhall.dispatch(people.click("ann", poll, 1))
    await townhall.dispatch(people.click("ann", poll, 3))
    await townhall.dispatch(people.click("bob", poll, 3))
    removed = await townhall.dispatch(people.click("ann", poll, 1))
    assert "Removed" in text_of(removed.notices)
    result = await tally(townhall, poll)
    assert [o["votes"] for o in result["options"]] == [0, 0, 2]  # type: ignore[index]
    assert result["participants"] == 2


async def test_scale_has_five_points(app: App, people: People) -> None:
    townhall, adapter = app
    scale = await create(townhall, people, 'scale "Parking charges are fair"')
    assert len(adapter.cards()[0].buttons) == 5
    await townhall.dispatch(people.click("ann", scale, 5))
    result = await tally(townhall, scale)
    assert result["kind"] == "scale"
    assert result["options"][4] == {"label": "Strongly agree", "votes": 1}  # type: ignore[index]


async def test_open_question_answers_by_reply_and_form(app: App, people: People) -> None:
    townhall, adapter = app
    question = await create(townhall, people, 'ask "What would improve the high street?"')
    message_id = adapter.sent[0].ref.message_id
    await townhall.dispatch(people.reply("ann", message_id, "More benches"))
    await townhall.dispatch(people.submit("bob", question, "Fewer empty shops"))
    ignored = await townhall.dispatch(people.reply("cat", "some-other-message", "chatter"))
    assert not ignored.notices
    result = await tally(townhall, question)
    assert result["responses"] == 2 and result["options"] == []
    assert [a["text"] for a in result["answers"]] == ["More benches", "Fewer empty shops"]  # type: ignore[index]


async def test_closing_posts_results_and_refuses_later_votes(app: App, people: People) -> None:
    townhall, adapter = app
    poll = await create(townhall, people, 'poll "Q?" "A" "B" --results closed')
    assert adapter.cards()[0].bars == ()  # hidden until close
    await townhall.dispatch(people.click("ann", poll, 2))
    await townhall.deliverer.drain()
    assert adapter.sent[0].edits == []  # results hidden: no live edits
    closed = await townhall.dispatch(people.command("officer", f"close {poll}"))
    assert "Closed" in text_of(closed.notices)
    await townhall.deliverer.drain()
    summary = adapter.sent[-1]
    assert isinstance(summary.view, Card) and summary.view.title.startswith("Results:")
    assert summary.reply_to == adapter.sent[0].ref.message_id
    final = adapter.sent[0].current
    assert isinstance(final, Card) and final.buttons == () and final.bars[1].votes == 1
    late = await townhall.dispatch(people.click("bob", poll, 1))
    assert "closed" in text_of(late.notices)
    again = await townhall.dispatch(people.command("officer", f"close {poll}"))
    assert "already closed" in text_of(again.notices)
    assert (await tally(townhall, poll))["responses"] == 1


async def test_scheduler_closes_items_past_deadline(
    app: App, people: People, clock: FakeClock
) -> None:
    townhall, adapter = app
    poll = await create(townhall, people, 'poll "Q?" "A" "B" --closes 2h')
    assert await townhall.scheduler.run_once() == []
    clock.advance(hours=3)  # e.g. the bot was down when the deadline passed
    assert await townhall.scheduler.run_once() == [poll]
    await townhall.deliverer.drain()
    assert (await tally(townhall, poll))["status"] == "closed"
    assert adapter.cards()[-1].title == "Results: Q?"


async def test_the_same_event_twice_counts_once(app: App, people: People) -> None:
    townhall, _ = app
    poll = await create(townhall, people, 'poll "Q?" "A" "B"')
    first = await townhall.dispatch(people.click("ann", poll, 1, event_id="evt-1"))
    second = await townhall.dispatch(people.click("ann", poll, 2, event_id="evt-1"))
    assert first.handled and second.duplicate and not second.notices
    assert (await tally(townhall, poll))["options"][0]["votes"] == 1  # type: ignore[index]
    # a refused event is remembered too, so a redelivery does not answer twice
    await townhall.dispatch(people.command("ann", 'poll "X?" "A" "B"', event_id="evt-2"))
    redelivered = await townhall.dispatch(
        people.command("ann", 'poll "X?" "A" "B"', event_id="evt-2")
    )
    assert redelivered.duplicate


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ('poll "Unbalanced "A" "B"', "check your quotes"),
        ('poll "Only one?" "A"', "2 to 10 options; you gave 1"),
        ('poll "Q?" ' + " ".join(f'"O{i}"' for i in range(11)), "you gave 11"),
        ('poll "" "A" "B"', "question is empty"),
        ('poll "   " "A" "B"', "question is empty"),
        (f'poll "{"x" * 301}" "A" "B"', "keep it to 300"),
        ('poll "Q?" "A" "a"', "same"),
        ('poll "Q?" "A" "B" --closes yesterday', "don't understand --closes"),
        ('poll "Q?" "A" "B" --closes 2020-01-01T00:00Z', "in the future"),
        ('poll "Q?" "A" "B" --colour red', "Unknown option --colour"),
        ('poll "Q?" "A" "B" --results sometimes', "must be one of"),
        ("poll", "Usage: poll"),
        ("frobnicate", "Unknown command"),
        ("close nosuch", "can't find item nosuch"),
        ("results nosuch", "can't find item nosuch"),
    ],
)
async def test_bad_commands_get_a_clear_answer_and_change_nothing(
    app: App, people: People, command: str, expected: str
) -> None:
    townhall, adapter = app
    outcome = await townhall.dispatch(people.command("officer", command))
    assert expected in text_of(outcome.notices)
    await townhall.deliverer.drain()
    assert adapter.sent == []
    assert await count(townhall, OutboxMessage) == 0
    assert await count(townhall, ProcessedEvent) == 1


async def test_bad_answers_and_clicks_are_refused(app: App, people: People) -> None:
    townhall, _ = app
    question = await create(townhall, people, 'ask "Why?"')
    too_long = await townhall.dispatch(people.submit("ann", question, "x" * 4001))
    assert "keep it to 4000" in text_of(too_long.notices)
    empty = await townhall.dispatch(people.submit("ann", question, "   "))
    assert "empty" in text_of(empty.notices)
    unknown = await townhall.dispatch(people.click("ann", "zzzzzz", 1))
    assert "can't find item" in text_of(unknown.notices)
    poll = await create(townhall, people, 'poll "Q?" "A" "B"')
    bad_option = await townhall.dispatch(people.click("ann", poll, 9))
    assert "does not exist" in text_of(bad_option.notices)
    ok = await townhall.dispatch(people.submit("ann", question, "x" * 4000))
    assert "recorded" in text_of(ok.notices)
    assert await count(townhall, Answer) == 1
    assert await count(townhall, Vote) == 0


@pytest.mark.parametrize(
    "command", ['poll "Q?" "A" "B"', 'ask "Q?"', "close abcdef", "results abcdef", "list"]
)
async def test_citizens_cannot_use_officer_commands(app: App, people: People, command: str) -> None:
    townhall, adapter = app
    outcome = await townhall.dispatch(people.command("citizen", command))
    assert "only the policy team" in text_of(outcome.notices)
    await townhall.deliverer.drain()
    assert adapter.sent == []


async def test_roles_granted_in_the_database_count(
    app: App, people: People, clock: FakeClock
) -> None:
    townhall, _ = app
    from storage.people import RoleRepository

    async with townhall.db.transaction() as session:
        await RoleRepository(session).grant("test:dana", "policy", "cli", clock())
    await create(townhall, people, 'poll "Q?" "A" "B"', user="dana")
    async with townhall.db.transaction() as session:
        actions = (await session.execute(select(AuditEntry.action, AuditEntry.actor))).all()
    assert ("item.create", "test:dana") in actions


async def test_results_and_list_for_officers(app: App, people: People) -> None:
    townhall, _ = app
    poll = await create(townhall, people, 'poll "Q?" "A" "B"')
    await townhall.dispatch(people.click("ann", poll, 1))
    shown = await townhall.dispatch(people.command("officer", f"results {poll}"))
    card = shown.notices[0]
    assert isinstance(card, Card) and card.bars[0].votes == 1 and card.bars[0].percent == 100.0
    listed = await townhall.dispatch(people.command("officer", "list"))
    assert poll in text_of(listed.notices)
    helped = await townhall.dispatch(people.command("citizen", "help"))
    assert "poll" not in text_of(helped.notices).split("\n", 1)[1]  # staff commands hidden


async def test_delivery_waits_out_rate_limits_and_gives_up_on_permanent_errors(
    app: App, people: People, clock: FakeClock
) -> None:
    townhall, adapter = app
    adapter.failures.append(DeliveryError("slow down", retry_after=30))
    await townhall.dispatch(people.command("officer", 'poll "Q?" "A" "B"'))
    await townhall.deliverer.drain()
    assert adapter.sent == []  # postponed, not lost
    clock.advance(seconds=31)
    await townhall.deliverer.drain()
    assert len(adapter.sent) == 1
    adapter.failures.append(DeliveryError("blocked", permanent=True))
    await townhall.dispatch(people.command("officer", 'ask "Q2?"'))
    await townhall.deliverer.drain()
    async with townhall.db.transaction() as session:
        statuses = (await session.execute(select(OutboxMessage.status))).scalars().all()
    # the third row: the officer is told privately that their card never appeared
    assert sorted(statuses) == ["failed", "sent", "sent"]
    told = adapter.sent[-1]
    assert told.target.private and told.target.channel_id == "officer"
    assert "could not be delivered" in text_of([told.view])


async def test_a_crashing_handler_answers_sorry_and_keeps_the_bot_alive(
    app: App, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    townhall, _ = app

    async def boom(*_args: object, **_kw: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(ItemRepository, "by_short_id", boom)
    outcome = await townhall.dispatch(people.command("officer", "close abcdef"))
    assert outcome.failed and "something went wrong" in text_of(outcome.notices)
    monkeypatch.undo()
    await create(townhall, people, 'poll "Still alive?" "Yes" "No"')
