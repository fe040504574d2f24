"""Votes wait for consent like answers do; clear replies to a wrong vote (issue 12: 5, b)."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.app import Townhall
from bot.views import Card
from storage.models import Participant, PendingAction
from tests.support import People, RecordingAdapter
from tests.test_handlers import create, tally, text_of

App = tuple[Townhall, RecordingAdapter]


async def pending(townhall: Townhall) -> int:
    async with townhall.db.transaction() as session:
        return int((await session.execute(select(func.count(PendingAction.id)))).scalar_one())


async def test_explicit_consent_holds_a_first_vote(app: App, people: People) -> None:
    townhall, _ = app
    townhall.settings.consent = "explicit"
    poll = await create(townhall, people, 'poll "Sundays?" "Yes" "No"')
    first = await townhall.dispatch(people.click("ann", poll, 1))
    card = first.notices[0]
    assert isinstance(card, Card) and card.title == "Before we record your vote"
    assert [b.custom_id for b in card.buttons] == ["consent:yes", "consent:no"]
    assert (await tally(townhall, poll))["responses"] == 0  # held, not counted
    async with townhall.db.transaction() as session:
        assert (await session.execute(select(func.count(Participant.id)))).scalar_one() == 0

    agreed = await townhall.dispatch(people.click_button("ann", "consent", "yes"))
    assert "your vote for “Yes” is recorded" in text_of(agreed.notices)
    assert (await tally(townhall, poll))["options"][0]["votes"] == 1  # type: ignore[index]
    again = await townhall.dispatch(people.click("ann", poll, 2))
    assert text_of(again.notices) == "Your vote is now “No”."

    await townhall.dispatch(people.click("bob", poll, 1))
    declined = await townhall.dispatch(people.click_button("bob", "consent", "no"))
    assert "nothing was recorded" in text_of(declined.notices)
    assert await pending(townhall) == 0
    assert (await tally(townhall, poll))["responses"] == 1


async def test_a_held_vote_on_a_closed_poll_is_not_counted(app: App, people: People) -> None:
    townhall, _ = app
    townhall.settings.consent = "explicit"
    poll = await create(townhall, people, 'poll "Sundays?" "Yes" "No"')
    await townhall.dispatch(people.click("ann", poll, 2))
    await townhall.dispatch(people.command("officer", f"close {poll}"))
    agreed = await townhall.dispatch(people.click_button("ann", "consent", "yes"))
    assert f"{poll} has closed meanwhile; your vote was not recorded." in text_of(agreed.notices)
    assert (await tally(townhall, poll))["responses"] == 0


async def test_notice_mode_sends_the_notice_with_the_first_vote(app: App, people: People) -> None:
    townhall, _ = app
    poll = await create(townhall, people, 'poll "Sundays?" "Yes" "No"')
    q = await create(townhall, people, 'ask "Why?"')
    first = await townhall.dispatch(people.click("ann", poll, 1))
    assert text_of(first.notices).startswith("Thanks, your vote for “Yes” is recorded.")
    assert townhall.settings.privacy_url in text_of(first.notices)
    answered = await townhall.dispatch(people.submit("ann", q, "Because"))
    assert townhall.settings.privacy_url not in text_of(answered.notices)  # told once


async def test_a_wrong_vote_says_what_is_wrong(app: App, people: People) -> None:
    townhall, _ = app
    poll = await create(townhall, people, 'poll "Sundays?" "Yes" "No"')
    q = await create(townhall, people, 'ask "Why?"')
    word = await townhall.dispatch(people.click_button("ann", "vote", f"{poll}:abc"))
    assert (
        text_of(word.notices)
        == f"'abc' is not an option number: vote {poll} N, with N from 1 to 2."
    )
    question = await townhall.dispatch(people.click_button("ann", "vote", f"{q}:1"))
    assert text_of(question.notices) == (
        f"{q} is an open question: answer it in your own words (answer {q} your text)."
    )
    three = await townhall.dispatch(people.click_button("ann", "vote", f"{poll}:3"))
    assert text_of(three.notices) == f"That option does not exist: {poll} has options 1 to 2."
