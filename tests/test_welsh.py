"""English and Welsh per person (issue 18), on Telegram with the real python-telegram-bot: a
person whose Telegram says ``language_code: cy`` is answered in Welsh from the first reply,
``/language en`` and ``/language cy`` switch and are remembered (shown in ``mydata``), and
Welsh and English votes count together in one tally."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services import consultations
from services.consultation_file import load_file
from storage.db import Database
from tests.drivers.telegram import IDS, TelegramDriver, telegram_driver
from tests.support import FakeClock

POLL = 'poll "Open the library on Sundays?" "Yes" "No"'
CONSULTATION = Path(__file__).resolve().parent / "data" / "consultation-12.yaml"

pytestmark = pytest.mark.timeout(90)


def speaks_welsh(d: TelegramDriver, who: str) -> None:
    """``who``'s Telegram app is set to Welsh: updates carry ``language_code: cy``."""
    d.users[who] = d.fake.user(IDS[who], who.title(), language_code="cy")


async def test_a_welsh_speaker_is_answered_in_welsh_and_votes_count_with_english_ones(
    db: Database, clock: FakeClock
) -> None:
    async with telegram_driver(db, clock) as d:
        speaks_welsh(d, "eve")
        poll = await d.publish(POLL)
        told = await d.vote("eve", poll, 1)
        assert "Diolch, mae eich pleidlais dros “Yes” wedi’i chofnodi." in told, told
        assert "your vote" not in told
        assert "Mae Townhall yn cadw eich atebion ar gyfer y tîm polisi o dan ffugenw" in told
        english = await d.vote("ann", poll, 2)
        assert "Thanks, your vote for “No” is recorded." in english, english
        changed = await d.vote("eve", poll, 2)
        assert "Eich pleidlais bellach yw “No”." in changed, changed
        await d.vote("bob", poll, 1)
        assert await d.votes(poll) == [1, 2]  # one tally, whatever language each reads
        assert (await d.tally(poll))["participants"] == 3


async def test_language_switches_and_is_remembered(db: Database, clock: FakeClock) -> None:
    async with telegram_driver(db, clock) as d:
        speaks_welsh(d, "eve")
        poll = await d.publish(POLL)
        told = await d.command("eve", "/language en", private=True)
        assert "From now on Townhall will write to you in English." in told, told
        assert "your vote for “Yes” is recorded" in await d.vote("eve", poll, 1)  # app still cy
        data = json.loads(_json_of(await d.mydata("eve")))
        assert data["language"] == "en" and data["language_chosen"] is True

        told = await d.command("ann", "/language cy", private=True)
        assert "O hyn ymlaen, bydd Townhall yn ysgrifennu atoch yn Gymraeg." in told, told
        assert "wedi’i chofnodi" in await d.vote("ann", poll, 2)
        shown = await d.mydata("ann")
        assert "Yr hyn y mae Townhall yn ei gadw amdanoch chi" in shown, shown
        assert json.loads(_json_of(shown))["language"] == "cy"
        assert "Cymraeg (cy)" in await d.command("ann", "/language fr", private=True)
        # the adapter's own words follow too: mydata asked in the group goes to the private chat
        assert "Rwyf wedi anfon hynny atoch yn ein sgwrs breifat." in await d.command(
            "ann", "/mydata"
        )
        assert await d.votes(poll) == [1, 1]


async def test_the_consultation_flow_in_welsh(db: Database, clock: FakeClock) -> None:
    async with db.transaction() as session:
        plan = load_file(CONSULTATION, now=clock())
        await consultations.load(session, plan, new_version=False, actor="cli", now=clock())
    async with telegram_driver(db, clock) as d:
        speaks_welsh(d, "eve")
        await d.officer("publish library-bill")
        told = await d.command("eve", "/start library-bill", private=True)
        assert "1 o 12" in told, told
        d.last_with_button(IDS["eve"], "Hepgor")  # Skip, in Welsh
        assert "2 o 12" in await d.tap("eve", "Cytuno")  # the stance "Agree", in Welsh
        assert "3 o 12" in await d.tap("eve", "Hepgor")


async def test_an_operators_own_notice_in_welsh(db: Database, clock: FakeClock) -> None:
    """TOWNHALL_PRIVACY_NOTICE_CY is what Welsh readers get; English readers keep theirs."""
    notices = {
        "privacy_notice": "Kept by Example Council.",
        "privacy_notice_cy": "Cyngor Enghraifft.",
    }
    async with telegram_driver(db, clock, **notices) as d:
        speaks_welsh(d, "eve")
        poll = await d.publish(POLL)
        assert "Cyngor Enghraifft. Hysbysiad preifatrwydd: https://" in await d.vote("eve", poll, 1)
        assert "Kept by Example Council. Privacy notice: https://" in await d.vote("ann", poll, 1)


async def test_help_and_command_errors_in_welsh(db: Database, clock: FakeClock) -> None:
    """Help and the command grammar's errors reach a Welsh reader in Welsh; the commands
    themselves stay as typed (English words); staff commands are not listed for a citizen."""
    async with telegram_driver(db, clock) as d:
        speaks_welsh(d, "eve")
        told = await d.command("eve", "/help", private=True)
        assert "Gorchmynion Townhall:" in told and "Dangos y cymorth hwn." in told, told
        assert "mydata" in told and "Publish a poll" not in told
        told = await d.command("eve", "/report A1 A2", private=True)
        assert "Defnydd: report REF" in told, told
        told = await d.command("eve", '/subscribe "health', private=True)
        assert "(gwiriwch eich dyfynodau)" in told, told
        assert "Usage: report REF" in await d.command("ann", "/report A1 A2", private=True)


def _json_of(told: str) -> str:
    """The JSON copy in a mydata reply (between the title line and the counts)."""
    start, end = told.index("{"), told.rindex("}")
    return told[start : end + 1]
