"""Moderation after a decision, escalations and the moderators' replies (issue 12)."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import Townhall
from bot.views import Card
from storage.models import AuditEntry
from tests.support import FakeClock, People, RecordingAdapter
from tests.test_handlers import create, tally, text_of
from tests.test_moderation import answer, audit

App = tuple[Townhall, RecordingAdapter]


async def test_a_decision_settles_earlier_reports(
    app: App, people: People, clock: FakeClock
) -> None:
    """Decidim's rule: only reports made since the last decision count towards hiding."""
    townhall, _ = app
    q = await create(townhall, people, 'ask "Thoughts?"')
    ref = await answer(townhall, people, "bob", q, "The park should close at dusk")
    for reporter in ("r1", "r2", "r3"):
        clock.advance(seconds=1)
        await townhall.dispatch(people.command(reporter, f"report {ref}"))
    assert (await tally(townhall, q))["responses"] == 0  # auto-hidden, correct
    clock.advance(seconds=1)
    await townhall.dispatch(people.command("mod", f"approve {ref}"))
    assert (await tally(townhall, q))["responses"] == 1

    clock.advance(seconds=1)
    await townhall.dispatch(people.command("r4", f"report {ref}"))
    assert (await tally(townhall, q))["responses"] == 1, "one fresh report undid the decision"
    queue = await townhall.dispatch(people.command("mod", "flagged"))
    card = next(n for n in queue.notices if isinstance(n, Card))
    fields = dict(card.fields)
    assert card.title.startswith(ref) and "reported:after-review" in fields["Reasons"]
    assert fields["Reports"] == "1 since the last decision"

    for reporter in ("r5", "r6"):
        clock.advance(seconds=1)
        await townhall.dispatch(people.command(reporter, f"report {ref}"))
    assert (await tally(townhall, q))["responses"] == 0  # three fresh reports hide it again
    async with townhall.db.transaction() as session:
        hides = (
            (
                await session.execute(
                    select(AuditEntry).where(AuditEntry.action == "answer.auto_hide")
                )
            )
            .scalars()
            .all()
        )
    assert [h.details["reports"] for h in hides] == [3, 3]
    assert "since_decision" in hides[1].details
    assert ("system:reports", "answer.auto_hide", ref) in await audit(townhall)


async def test_a_missing_answer_is_named(app: App, people: People) -> None:
    """Reply (a): a moderator's decision on an unknown ref says there is no such answer."""
    townhall, _ = app
    for command in ("approve A999", "hide 999", "report A999"):
        user = "ann" if command.startswith("report") else "mod"
        outcome = await townhall.dispatch(people.command(user, command))
        assert text_of(outcome.notices) == "There is no answer A999."
