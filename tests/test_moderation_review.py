"""Moderation after a decision, escalations and the moderators' replies (issue 12)."""

from __future__ import annotations

from sqlalchemy import select

from bot.views import Card, Notice
from storage.models import AuditEntry
from storage.people import RoleRepository
from tests.support import FakeClock, People, RecordingAdapter
from tests.test_handlers import create, tally, text_of
from tests.test_moderation import answer, audit
from townhall.app import Townhall

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
    assert (
        card.title.startswith(ref)
        and "Reported again after a moderator's decision" in fields["Reasons"]
    )
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


async def test_an_escalation_reaches_the_author_and_the_policy_team(
    app: App, people: People
) -> None:
    townhall, adapter = app
    async with townhall.db.transaction() as session:
        for subject in ("test:polly", "test:author"):
            await RoleRepository(session).grant(subject, "policy", "cli", townhall.clock())
        await RoleRepository(session).grant(
            "dashboard:p@x.gov.uk", "policy", "cli", townhall.clock()
        )
    q = await create(townhall, people, 'ask "Should the pier reopen?"', user="author")
    ref = await answer(townhall, people, "ann", q, "Only if the council pays for it")
    done = await townhall.dispatch(people.command("mod", f"escalate {ref} legal question"))
    assert text_of(done.notices) == f"{ref}: escalated to the policy team."
    await townhall.deliverer.drain()
    private = {s.target.channel_id: s.view for s in adapter.sent if s.target.private}
    # the author, the bootstrap policy team (officer) and granted members; dashboard accounts
    # see it on the item page
    assert set(private) == {"author", "officer", "polly"}
    told = private["author"]
    assert isinstance(told, Notice) and ref in told.text and "legal question" in told.text
    assert f"/items/{q}" in told.text


async def test_only_the_policy_team_decides_escalated_answers(app: App, people: People) -> None:
    townhall, _ = app
    q = await create(townhall, people, 'ask "Ideas?"')
    ref = await answer(townhall, people, "ann", q, "Rename the park")
    plain = await answer(townhall, people, "bob", q, "More bins")
    await townhall.dispatch(people.command("mod", f"escalate {ref}"))
    citizen = await townhall.dispatch(people.submit_form("cat", "escalated", f"hide:{ref[1:]}"))
    assert "only the policy team" in text_of(citizen.notices)
    other = await townhall.dispatch(people.submit_form("officer", "escalated", f"hide:{plain[1:]}"))
    assert text_of(other.notices) == f"{plain} is no longer escalated: it is visible."
    hidden = await townhall.dispatch(people.submit_form("officer", "escalated", f"hide:{ref[1:]}"))
    assert text_of(hidden.notices) == f"{ref}: hidden."
    assert ("test:officer", "answer.hide", ref) in await audit(townhall)
    assert (await tally(townhall, q))["responses"] == 1


async def test_redact_says_when_nothing_was_found_and_takes_exact_words(
    app: App, people: People
) -> None:
    """Reply (c): no silent "personal data removed" when nothing was; exact words instead."""
    townhall, _ = app
    q = await create(townhall, people, 'ask "Where is the problem?"')
    ref = await answer(townhall, people, "ann", q, "Ask Jo Bloggs at 4 Elm Row, she knows")
    nothing = await townhall.dispatch(people.command("mod", f"redact {ref}"))
    assert text_of(nothing.notices) == (
        f"{ref} was not changed: screening found no personal data in it. To remove particular "
        f'words, give them: redact {ref} --words "exact words"'
    )
    missing = await townhall.dispatch(people.command("mod", f'redact {ref} --words "Jo Smith"'))
    assert text_of(missing.notices) == f"{ref} does not contain “Jo Smith”; nothing was changed."
    done = await townhall.dispatch(
        people.command("mod", f'redact {ref} names --words "jo  bloggs"')
    )
    assert text_of(done.notices) == f"{ref}: 1 passage removed; the rest is visible."
    again = await townhall.dispatch(people.command("mod", f'redact {ref} --words "4 Elm Row"'))
    assert text_of(again.notices) == f"{ref}: 1 passage removed; the rest is visible."
    result = await tally(townhall, q)
    assert result["answers"][0]["text"] == "Ask [removed] at [removed], she knows"  # type: ignore[index]
    async with townhall.db.transaction() as session:
        entry = (
            (
                await session.execute(
                    select(AuditEntry)
                    .where(AuditEntry.action == "answer.redact")
                    .order_by(AuditEntry.id)
                )
            )
            .scalars()
            .first()
        )
    assert entry is not None
    assert entry.details["removed"] == ["words"] and entry.details["why"] == "names"
    assert "Bloggs" not in str(entry.details)


async def test_flagged_refuses_a_page_that_is_not_a_number(app: App, people: People) -> None:
    """Reply (d)."""
    townhall, _ = app
    outcome = await townhall.dispatch(people.command("mod", "flagged abc"))
    assert text_of(outcome.notices) == "'abc' is not a page number.\nUsage: flagged [PAGE]"


async def test_a_lone_double_dash_and_punctuation_options_are_refused(
    app: App, people: People
) -> None:
    """Reply (e): ``--`` never becomes a poll option, nor does any punctuation-only label."""
    townhall, _ = app
    dashed = await townhall.dispatch(people.command("officer", 'poll "Q?" "A" "B" -- --closes 2d'))
    assert text_of(dashed.notices).startswith("A lone -- is not understood")
    dots = await townhall.dispatch(people.command("officer", 'poll "Q?" "A" "..."'))
    assert text_of(dots.notices) == "Option '...' is only punctuation: give it words."
    async with townhall.db.transaction() as session:
        assert (await session.execute(select(AuditEntry))).first() is None  # nothing published
