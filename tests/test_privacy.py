"""Consent, access (mydata) and erasure (forget, purge), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.views import Card, Notice
from services.exports import rows
from storage.items import ItemRepository
from storage.models import AuditEntry, Participant, PendingAction
from storage.people import PrivacyRepository
from tests.support import FakeClock, People, RecordingAdapter
from tests.test_handlers import create, tally, text_of
from townhall.app import Townhall

App = tuple[Townhall, RecordingAdapter]


async def test_explicit_consent_holds_the_first_answer_until_agreed(
    app: App, people: People
) -> None:
    townhall, _ = app
    townhall.settings.consent = "explicit"
    q = await create(townhall, people, 'ask "What should change?"')
    first = await townhall.dispatch(people.submit("ann", q, "Longer library hours"))
    card = first.notices[0]
    assert isinstance(card, Card) and card.confidential
    assert townhall.settings.privacy_url in card.body
    assert [b.custom_id for b in card.buttons] == ["consent:yes", "consent:no"]
    assert (await tally(townhall, q))["responses"] == 0
    async with townhall.db.transaction() as session:
        assert (await session.execute(select(func.count(Participant.id)))).scalar_one() == 0
    agreed = await townhall.dispatch(people.click_button("ann", "consent", "yes"))
    assert "ref A1" in text_of(agreed.notices)
    assert (await tally(townhall, q))["answers"][0]["text"] == "Longer library hours"  # type: ignore[index]
    second = await townhall.dispatch(people.submit("ann", q, "And a café"))
    assert "recorded" in text_of(second.notices)

    await townhall.dispatch(people.submit("bob", q, "I'd rather not say"))
    declined = await townhall.dispatch(people.click_button("bob", "consent", "no"))
    assert "nothing was recorded" in text_of(declined.notices)
    async with townhall.db.transaction() as session:
        assert (await session.execute(select(func.count(PendingAction.id)))).scalar_one() == 0
    assert (await tally(townhall, q))["responses"] == 2


async def test_notice_mode_sends_the_notice_with_the_first_answer(app: App, people: People) -> None:
    townhall, _ = app
    q = await create(townhall, people, 'ask "Q?"')
    first = await townhall.dispatch(people.submit("ann", q, "One"))
    second = await townhall.dispatch(people.submit("ann", q, "Two"))
    assert townhall.settings.privacy_url in text_of(first.notices)
    assert townhall.settings.privacy_url not in text_of(second.notices)


async def test_mydata_is_private_and_complete(app: App, people: People) -> None:
    townhall, _ = app
    poll = await create(townhall, people, 'poll "Q?" "Yes" "No"')
    q = await create(townhall, people, 'ask "Why?"')
    await townhall.dispatch(people.click("ann", poll, 2))
    await townhall.dispatch(people.submit("ann", q, "Because of the traffic"))
    outcome = await townhall.dispatch(people.command("ann", "mydata"))
    card = outcome.notices[0]
    assert isinstance(card, Card) and card.confidential
    assert '"choice": "No"' in card.body and "Because of the traffic" in card.body
    assert "ann" not in card.body  # the raw platform id is not echoed back
    nobody = await townhall.dispatch(people.command("zed", "mydata"))
    assert isinstance(nobody.notices[0], Notice) and "nothing" in nobody.notices[0].text


async def test_forget_erases_votes_answers_and_identity(app: App, people: People) -> None:
    townhall, adapter = app
    poll = await create(townhall, people, 'poll "Q?" "Yes" "No"')
    q = await create(townhall, people, 'ask "Why?"')
    for user in ("ann", "bob"):
        await townhall.dispatch(people.click(user, poll, 1))
        await townhall.dispatch(people.submit(user, q, f"{user} thinks so"))
    asked = await townhall.dispatch(people.command("ann", "forget"))
    assert [b.custom_id for b in asked.notices[0].buttons] == ["forget:confirm", "forget:cancel"]  # type: ignore[union-attr]
    assert (await tally(townhall, poll))["participants"] == 2  # nothing happens before confirm
    done = await townhall.dispatch(people.click_button("ann", "forget", "confirm"))
    assert "erased 1 vote and 1 answer" in text_of(done.notices)
    assert (await tally(townhall, poll))["options"][0]["votes"] == 1  # type: ignore[index]
    async with townhall.db.transaction() as session:
        item = await ItemRepository(session).by_short_id(q)
        assert item is not None
        exported = await rows(session, item, include_hidden=True)
        entry = (
            await session.execute(
                select(AuditEntry).where(AuditEntry.action == "participant.forget")
            )
        ).scalar_one()
    assert [r["text"] for r in exported] == ["bob thinks so"]
    assert entry.details == {"votes": 1, "answers": 1}
    assert "ann" not in entry.actor and entry.actor.startswith("participant:")
    await townhall.deliverer.drain()
    poll_card = adapter.sent[0].current
    assert isinstance(poll_card, Card) and poll_card.bars[0].votes == 1  # tallies update


async def test_purge_erases_raw_ids_of_long_closed_items_only(
    app: App, people: People, clock: FakeClock
) -> None:
    townhall, _ = app
    old = await create(townhall, people, 'poll "Old?" "A" "B"')
    await townhall.dispatch(people.click("ann", old, 1))
    await townhall.dispatch(people.command("officer", f"close {old}"))
    clock.advance(days=400)
    current = await create(townhall, people, 'poll "New?" "A" "B"')
    await townhall.dispatch(people.click("bob", current, 1))
    async with townhall.db.transaction() as session:
        erased = await PrivacyRepository(session).purge_identities(clock() - timedelta(days=365))
        ids = dict(
            (
                await session.execute(
                    select(Participant.id, Participant.platform_user_id).order_by(Participant.id)
                )
            ).all()
        )
    assert erased == 1 and list(ids.values()) == [None, "bob"]
    assert (await tally(townhall, old))["participants"] == 1  # the vote itself stays
