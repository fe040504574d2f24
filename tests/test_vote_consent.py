"""Votes wait for consent like answers do; clear replies to a wrong vote (issue 12: 5, b)."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.views import Card
from storage.db import Database
from storage.models import Participant, PendingAction
from tests.drivers.webchat_kit import Browser, chat_settings, start_chat_app
from tests.support import FakeClock, People, RecordingAdapter
from tests.test_handlers import create, tally, text_of
from townhall.app import Townhall

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


async def test_web_chat_vote_waits_for_consent(db_url: str, db: Database, clock: FakeClock) -> None:
    async for chat in start_chat_app(chat_settings(db_url, consent="explicit"), db, clock):
        browser = Browser(chat.base)
        try:
            poll = await chat.create('poll "Sundays?" "Yes" "No"')
            waiting = await browser.submit(f"/c/{poll}", "vote", [("choice", "2")])
            assert "Before we record your vote" in waiting.plain
            assert (await chat.results(poll))["responses"] == 0
            agree = waiting.form_with("consent:yes")
            data = [
                ("csrf", waiting.field("csrf", agree)),
                ("sub", waiting.field("sub", agree)),
                ("intent", "button"),
                ("button", "consent:yes"),
            ]
            stored = await browser.post(f"/c/{poll}", data)
            assert "your vote for “No” is recorded" in stored.banner
            assert [o["votes"] for o in (await chat.results(poll))["options"]] == [0, 1]  # type: ignore[index]
        finally:
            await browser.close()
