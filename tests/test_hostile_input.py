"""Overflowing or non-ASCII numbers, NUL and invisible text: a polite refusal, never a crash."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.inputs import BIGINT_MAX, clean, is_blank, parse_int
from storage.db import Database
from storage.models import Answer
from tests.dashboard_support import DashApp, plain, start_dashboard
from tests.support import FakeClock, People, RecordingAdapter, publish, said
from townhall.app import Townhall

App = tuple[Townhall, RecordingAdapter]
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"


def test_numbers_are_ascii_digits_within_range() -> None:
    assert parse_int("12") == 12
    assert parse_int("0012", low=1) == 12
    for bad in ["", "²", "١٢", "1²", "-1", "+1", " 1", "1.0", "99999999999999999999", "0x1"]:
        assert parse_int(bad) is None, bad
    assert parse_int(str(BIGINT_MAX)) == BIGINT_MAX
    assert parse_int(str(BIGINT_MAX + 1)) is None
    assert parse_int("0", low=1) is None
    assert parse_int("5", high=4) is None


def test_control_characters_go_and_invisible_text_is_blank() -> None:
    assert clean("a\x00b\x07c\td\ne\r") == "abc\td\ne\r"
    assert is_blank(ZERO_WIDTH) and is_blank(" \u00a0\u2003" + ZERO_WIDTH) and is_blank("")
    assert not is_blank("\u200bx")


async def test_overflowing_and_odd_numbers_are_refused_politely(app: App, people: People) -> None:
    townhall, _ = app
    poll = await publish(townhall, 'poll "Q?" "A" "B"', people=people)
    cases = [
        (people.command("ann", "report A99999999999999999999"), "not an answer reference"),
        (people.command("ann", "report A²"), "not an answer reference"),
        (people.click_button("ann", "vote", f"{poll}:²"), "is not an option number"),
        (
            people.click_button("ann", "vote", f"{poll}:99999999999999999999"),
            "That option does not exist",
        ),
        (people.command("mod", "flagged 99999999999999999999"), ""),
        (people.command("mod", "hide A99999999999999999999"), "not an answer reference"),
    ]
    for event, expected in cases:
        outcome = await townhall.dispatch(event)
        assert not outcome.failed, event
        assert expected in said(outcome.notices), (event, said(outcome.notices))


async def test_nul_is_dropped_and_zero_width_answers_are_empty(app: App, people: People) -> None:
    townhall, _ = app
    question = await publish(townhall, 'ask "Why?"', people=people)
    outcome = await townhall.dispatch(people.submit("ann", question, ZERO_WIDTH + "  "))
    assert "empty" in said(outcome.notices) and not outcome.failed
    outcome = await townhall.dispatch(people.submit("ann\x00", question, "Because\x00 of bins"))
    assert not outcome.failed and "ref A" in said(outcome.notices), said(outcome.notices)
    async with townhall.db.transaction() as session:
        texts = (await session.execute(select(Answer.text))).scalars().all()
    assert texts == ["Because of bins"]


@pytest.fixture
async def dash_app(settings: Settings, db: Database, clock: FakeClock) -> AsyncIterator[DashApp]:
    async for running in start_dashboard(settings, db, clock):
        yield running


@pytest.mark.parametrize("answer_id", ["999999999999999999999", "0"])
async def test_a_moderator_deciding_an_impossible_answer_is_told_politely(
    dash_app: DashApp, answer_id: str
) -> None:
    mod = await dash_app.sign_in("moderator")
    token = await mod.csrf("/moderation")
    page = await mod.post(f"/moderation/{answer_id}", {"csrf": token, "decision": "hide"})
    assert page.status == 200
    assert "There is no such answer." in plain(page.text)
