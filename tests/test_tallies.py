"""Vote counters equal a full recount after any mix of votes, changes, toggles and erasure."""

from __future__ import annotations

from sqlalchemy import delete, update

from storage.models import Item, OptionTally
from storage.tallies import TallyRepository
from tests.support import People, RecordingAdapter
from tests.test_handlers import create, tally, text_of
from townhall.app import Townhall

App = tuple[Townhall, RecordingAdapter]


async def mismatches(townhall: Townhall) -> list[str]:
    async with townhall.db.transaction() as session:
        return [
            f"{m.item} {m.counter} {m.stored}!={m.recounted}"
            for m in await TallyRepository(session).mismatches()
        ]


async def test_counters_follow_votes_changes_toggles_consent_and_forget(
    app: App, people: People
) -> None:
    townhall, _ = app
    poll = await create(townhall, people, 'poll "Sundays?" "Yes" "No" "Maybe"')
    multi = await create(townhall, people, 'poll "Which days?" "Mon" "Tue" "Wed" --multi')
    for who, choice in [("ann", 1), ("bob", 2), ("cat", 1), ("ann", 3), ("bob", 2), ("dan", 3)]:
        await townhall.dispatch(people.click(who, poll, choice))
    for who, choice in [("ann", 1), ("ann", 2), ("bob", 2), ("ann", 1), ("cat", 3), ("cat", 3)]:
        await townhall.dispatch(people.click(who, multi, choice))
    # A vote held for consent counts only once agreed.
    townhall.settings.consent = "explicit"
    await townhall.dispatch(people.click("eve", poll, 2))
    assert (await tally(townhall, poll))["responses"] == 4
    await townhall.dispatch(people.click_button("eve", "consent", "yes"))
    townhall.settings.consent = "notice"
    assert await mismatches(townhall) == []

    single = await tally(townhall, poll)
    assert [o["votes"] for o in single["options"]] == [1, 2, 2]  # type: ignore[index]
    assert single["participants"] == single["responses"] == 5
    several = await tally(townhall, multi)
    # ann: Tue; bob: Tue; cat toggled Wed on and off.
    assert [o["votes"] for o in several["options"]] == [0, 2, 0]  # type: ignore[index]
    assert several["participants"] == 2
    assert several["by_platform"] == {"test": 2}

    await townhall.dispatch(people.command("ann", "forget"))
    done = await townhall.dispatch(people.click_button("ann", "forget", "confirm"))
    assert "erased 2 votes" in text_of(done.notices)
    assert await mismatches(townhall) == []
    assert (await tally(townhall, poll))["responses"] == 4
    assert (await tally(townhall, multi))["participants"] == 1

    # Deleting an item takes its counters with it.
    async with townhall.db.transaction() as session:
        await session.execute(delete(Item).where(Item.short_id == multi))
    assert await mismatches(townhall) == []


async def test_doctor_finds_and_fixes_a_wrong_counter(app: App, people: People) -> None:
    townhall, _ = app
    poll = await create(townhall, people, 'poll "Sundays?" "Yes" "No"')
    await townhall.dispatch(people.click("ann", poll, 1))
    async with townhall.db.transaction() as session:
        await session.execute(update(OptionTally).values(votes=OptionTally.votes + 5))
    assert await mismatches(townhall) == [f"{poll} option 1 6!=1"]
    async with townhall.db.transaction() as session:
        await TallyRepository(session).rebuild()
    assert await mismatches(townhall) == []
    assert [o["votes"] for o in (await tally(townhall, poll))["options"]] == [1, 0]  # type: ignore[index]
