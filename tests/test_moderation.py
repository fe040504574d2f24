"""Screening, reports, the moderators' queue and their decisions, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.views import Card
from storage.models import Answer, AuditEntry
from tests.support import FakeClock, People, RecordingAdapter
from tests.test_handlers import create, tally, text_of
from townhall.app import Townhall

App = tuple[Townhall, RecordingAdapter]


async def answer(app: Townhall, people: People, user: str, item: str, text: str) -> str:
    outcome = await app.dispatch(people.submit(user, item, text))
    found = re.search(r"ref (A\d+)", text_of(outcome.notices))
    assert found, text_of(outcome.notices)
    return found.group(1)


async def audit(app: Townhall) -> list[tuple[str, str, str]]:
    async with app.db.transaction() as session:
        rows = (await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars()
        return [(r.actor, r.action, r.target) for r in rows]


async def test_strict_holds_flagged_answers_until_approved(app: App, people: People) -> None:
    townhall, _ = app
    q = await create(townhall, people, 'ask "How can we improve parks?"')
    await answer(townhall, people, "ann", q, "More benches near the pond")
    held = await answer(townhall, people, "bob", q, "Email me at bob@example.com")
    abusive = await answer(townhall, people, "cat", q, "You are all fucking idiots")
    result = await tally(townhall, q)
    assert [a["text"] for a in result["answers"]] == ["More benches near the pond"]  # type: ignore[index]
    everything = await tally(townhall, q, include_hidden=True)
    assert [a["status"] for a in everything["answers"]] == ["visible", "held", "held"]  # type: ignore[index]

    queue = await townhall.dispatch(people.command("mod", "flagged"))
    cards = [n for n in queue.notices if isinstance(n, Card)]
    assert [c.title.split()[0] for c in cards] == [held, abusive]  # oldest first
    assert cards[0].confidential and dict(cards[0].fields)["Reasons"] == "Email address"
    assert [b.custom_id for b in cards[1].buttons] == [
        f"mod:{d}:{abusive[1:]}" for d in ("approve", "hide", "redact", "escalate")
    ]
    await townhall.dispatch(people.click_button("mod", "mod", f"approve:{held[1:]}"))
    await townhall.dispatch(people.click_button("mod", "mod", f"hide:{abusive[1:]}"))
    result = await tally(townhall, q)
    assert [a["text"] for a in result["answers"]] == [  # type: ignore[index]
        "More benches near the pond",
        "Email me at bob@example.com",
    ]
    empty = await townhall.dispatch(people.command("mod", "flagged"))
    assert "queue is empty" in text_of(empty.notices)
    actions = [(a, t) for _, a, t in await audit(townhall)]
    assert ("answer.approve", held) in actions and ("answer.hide", abusive) in actions


async def test_lazy_moderation_shows_then_queues(app: App, people: People) -> None:
    townhall, _ = app
    q = await create(townhall, people, 'ask "Ideas?" --moderation lazy')
    ref = await answer(townhall, people, "ann", q, "Call me on 07700 900123")
    assert (await tally(townhall, q))["responses"] == 1
    queue = await townhall.dispatch(people.command("mod", "flagged"))
    assert [n.title.split()[0] for n in queue.notices if isinstance(n, Card)] == [ref]


async def test_redaction_keeps_the_rest_of_the_text(app: App, people: People) -> None:
    townhall, _ = app
    q = await create(townhall, people, 'ask "Where is the problem?"')
    ref = await answer(townhall, people, "ann", q, "Potholes by SW1A 1AA, ring 020 7946 0958")
    done = await townhall.dispatch(people.command("mod", f"redact {ref}"))
    assert "personal data removed" in text_of(done.notices)
    result = await tally(townhall, q)
    assert result["answers"] == [
        {  # type: ignore[comparison-overlap]
            "text": "Potholes by [postcode removed], ring [phone removed]",
            "platform": "test",
            "status": "visible",
            "language": "en",
        }
    ]
    async with townhall.db.transaction() as session:
        stored = (await session.execute(select(Answer))).scalar_one()
        entry = (
            await session.execute(select(AuditEntry).where(AuditEntry.action == "answer.redact"))
        ).scalar_one()
    assert "SW1A" not in stored.text and stored.redacted
    assert entry.details["removed"] == ["postcode", "phone"] and "SW1A" not in str(entry.details)


async def test_three_distinct_reports_hide_an_answer(app: App, people: People) -> None:
    townhall, adapter = app
    q = await create(townhall, people, 'ask "Thoughts?"')
    ref = await answer(townhall, people, "ann", q, "The park should close at dusk")
    own = await townhall.dispatch(people.command("ann", f"report {ref}"))
    assert "your own answer" in text_of(own.notices)
    for reporter in ("bob", "bob", "cat"):  # bob twice counts once
        await townhall.dispatch(people.command(reporter, f"report {ref}"))
    assert (await tally(townhall, q))["responses"] == 1
    await townhall.dispatch(people.command("dan", f"report {ref}"))
    assert (await tally(townhall, q))["responses"] == 0
    await townhall.deliverer.drain()
    assert (await tally(townhall, q, include_hidden=True))["answers"][0]["status"] == "hidden"  # type: ignore[index]
    assert ("system:reports", "answer.auto_hide", ref) in await audit(townhall)
    # the author is told when a moderator confirms the hide
    await townhall.dispatch(people.command("mod", f"hide {ref} spam"))
    await townhall.deliverer.drain()
    private = [s for s in adapter.sent if s.target.private]
    assert private and private[0].target.channel_id == "ann" and ref in private[0].view.text  # type: ignore[union-attr]


async def test_reports_on_platform_messages(app: App, people: People) -> None:
    townhall, adapter = app
    q = await create(townhall, people, 'ask "Thoughts?"')
    reply = people.reply("ann", adapter.sent[0].ref.message_id, "Meet at the bandstand")
    await townhall.dispatch(reply)
    message = reply.target.message_id
    reported = await townhall.dispatch(
        people.click_button("bob", "report", f"m:{people.channel}:{message}")
    )
    assert "moderator will look" in text_of(reported.notices)
    unknown = await townhall.dispatch(people.click_button("bob", "report", "m:C1:nope"))
    assert "can't find that answer" in text_of(unknown.notices)
    del q


async def test_citizens_cannot_moderate(app: App, people: People) -> None:
    townhall, _ = app
    q = await create(townhall, people, 'ask "Q?"')
    ref = await answer(townhall, people, "ann", q, "my email is a@example.com")
    for event in (
        people.command("ann", "flagged"),
        people.command("ann", f"approve {ref}"),
        people.click_button("ann", "mod", f"approve:{ref[1:]}"),
    ):
        outcome = await townhall.dispatch(event)
        assert "only moderators" in text_of(outcome.notices)
    assert (await tally(townhall, q))["responses"] == 0


async def test_spam_repeats_and_floods(app: App, people: People, clock: FakeClock) -> None:
    townhall, _ = app
    q = await create(townhall, people, 'ask "Q?" --moderation lazy')
    await answer(townhall, people, "ann", q, "Scrap it!")
    await answer(townhall, people, "ann", q, "scrap it")
    for n in range(6):  # the sixth within ten minutes is a flood
        clock.advance(seconds=10)
        await answer(townhall, people, "bob", q, f"point {n}")
    async with townhall.db.transaction() as session:
        flags = [
            a.flags for a in (await session.execute(select(Answer).order_by(Answer.id))).scalars()
        ]
    assert flags[0] == [] and flags[1] == ["spam:repeat"]
    assert flags[2:7] == [[], [], [], [], []] and flags[7] == ["spam:flood"]
