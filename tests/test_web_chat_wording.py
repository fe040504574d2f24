"""The web chat speaks like a GOV.UK page, not like a chat bot: no internal ids, GOV.UK dates,
no chat commands in brackets, confirmations in a success banner, links rather than addresses."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from adapters.web.render import govuk_date_time
from storage.db import Database
from tests.drivers.webchat_kit import Browser, ChatApp, chat_settings, start_chat_app
from tests.support import FakeClock

PRIVACY_URL = "https://www.gov.uk/help/privacy-notice"


@pytest.fixture
async def chat(db_url: str, db: Database, clock: FakeClock) -> AsyncIterator[ChatApp]:
    async for running in start_chat_app(chat_settings(db_url), db, clock):
        yield running


@pytest.fixture
async def browser(chat: ChatApp) -> AsyncIterator[Browser]:
    client = Browser(chat.base)
    yield client
    await client.close()


def test_govuk_date_style_in_uk_time() -> None:
    assert (
        govuk_date_time(datetime(2026, 12, 14, 18, 23, tzinfo=UTC)) == "6:23pm on 14 December 2026"
    )
    assert govuk_date_time(datetime(2026, 12, 14, 9, 0, tzinfo=UTC)) == "9am on 14 December 2026"
    assert govuk_date_time(datetime(2027, 5, 1, 11, 0, tzinfo=UTC)) == "midday on 1 May 2027"  # BST
    assert (
        govuk_date_time(datetime(2026, 12, 15, 0, 0, tzinfo=UTC))
        == "midnight at the end of 14 December 2026"
    )


async def test_caption_and_deadline_say_it_as_govuk_does(
    chat: ChatApp, browser: Browser, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 12, 7, 18, 23, tzinfo=UTC)
    poll = await chat.create('poll "Open on Sundays?" "Yes" "No" --closes 7d')
    page = await browser.get(f"/c/{poll}")
    caption = re.search(r'class="govuk-caption-l">([^<]*)<', page.text)
    assert caption and caption.group(1).strip() == "Poll"
    assert poll not in page.plain
    assert "Closes at 6:23pm on 14 December 2026 · 0 people have taken part" in page.plain
    assert "UTC" not in page.plain


async def test_privacy_text_has_no_chat_commands_and_buttons_share_one_group(
    chat: ChatApp, browser: Browser
) -> None:
    poll = await chat.create('poll "Q?" "A" "B"')
    page = await browser.get(f"/c/{poll}")
    assert "(mydata)" not in page.plain and "(forget)" not in page.plain
    assert "You can ask what we hold or have it erased at any time." in page.plain
    # Both privacy buttons sit directly in one GOV.UK button group (full width on a phone).
    form = page.text[page.text.index("See what we hold") - 1500 :]
    group = re.search(r'<div class="govuk-button-group">(.*?)</div>', form, re.S)
    assert group and group.group(1).count("<button") == 2


async def test_confirmations_are_success_banners_with_a_privacy_link(
    chat: ChatApp, browser: Browser
) -> None:
    question = await chat.create('ask "Ideas for the park?"')
    done = await browser.submit(f"/c/{question}", "answer", [("answer", "A pond")])
    assert "govuk-notification-banner--success" in done.text
    assert "your answer is recorded" in done.banner
    assert "Important" not in done.banner and "Success" in done.banner
    assert PRIVACY_URL not in done.banner  # no bare address: a link instead
    assert f'href="{PRIVACY_URL}"' in done.text.split("govuk-notification-banner__content")[1]
    assert "(mydata)" not in done.banner
    again = await browser.submit(f"/c/{question}", "answer", [("answer", "Swings")])
    assert "govuk-notification-banner--success" in again.text
    assert PRIVACY_URL not in again.banner


async def test_a_refusal_stays_an_important_banner(chat: ChatApp, browser: Browser) -> None:
    poll = await chat.create('poll "Q?" "A" "B"')
    page = await browser.get(f"/c/{poll}")
    await chat.app.dispatch(chat.people.command("officer", f"close {poll}"))
    refused = await browser.post(
        f"/c/{poll}",
        [
            ("csrf", page.field("csrf")),
            ("sub", page.field("sub")),
            ("intent", "vote"),
            ("choice", "1"),
        ],
    )
    assert "this has closed" in refused.banner
    assert "govuk-notification-banner--success" not in refused.text
    assert "Important" in refused.banner
