"""The web chat (/c/<item id>) over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bot.events import Target
from bot.views import Card
from storage.db import Database
from storage.models import Answer, Participant, Publication
from tests.drivers.webchat_kit import Browser, ChatApp, chat_settings, start_chat_app
from tests.support import FakeClock


@pytest.fixture
async def chat(db_url: str, db: Database, clock: FakeClock) -> AsyncIterator[ChatApp]:
    async for running in start_chat_app(chat_settings(db_url), db, clock):
        yield running


@pytest.fixture
async def browser(chat: ChatApp) -> AsyncIterator[Browser]:
    client = Browser(chat.base)
    yield client
    await client.close()


async def test_vote_lands_and_results_show(chat: ChatApp, browser: Browser) -> None:
    poll = await chat.create('poll "Open the library on Sundays?" "Yes" "No" "Unsure"')
    page = await browser.get(f"/c/{poll}")
    assert page.status == 200
    assert "Open the library on Sundays?" in page.plain
    assert 'type="radio"' in page.text and 'name="choice"' in page.text

    done = await browser.submit(f"/c/{poll}", "vote", [("choice", "2")])
    assert done.url.endswith(f"/c/{poll}")  # POST-redirect-GET
    assert "your vote for “No” is recorded" in done.banner
    assert 'value="2" checked' in done.text  # the choice is remembered
    result = await chat.results(poll)
    assert result["options"] == [
        {"label": "Yes", "votes": 0},
        {"label": "No", "votes": 1},
        {"label": "Unsure", "votes": 0},
    ]
    assert result["by_platform"] == {"web": 1}
    assert "Results so far" in done.plain and "100.0%" in done.plain

    changed = await browser.submit(f"/c/{poll}", "vote", [("choice", "1")])
    assert "now “Yes”" in changed.banner
    again = await browser.get(f"/c/{poll}")
    assert again.banner == ""  # a flash is shown once
    assert [o["votes"] for o in (await chat.results(poll))["options"]] == [1, 0, 0]  # type: ignore[index]


async def test_double_submit_counts_once(chat: ChatApp, browser: Browser) -> None:
    poll = await chat.create('poll "Which day?" "Mon" "Tue" --multi')
    page = await browser.get(f"/c/{poll}")
    assert 'type="checkbox"' in page.text
    form = [
        ("csrf", page.field("csrf")),
        ("sub", page.field("sub")),
        ("intent", "vote"),
        ("choice", "1"),
        ("choice", "2"),
    ]
    first = await browser.post(f"/c/{poll}", form)
    second = await browser.post(f"/c/{poll}", form)  # the same form again (double click)
    assert "Added “Mon”" in first.banner
    assert "Added" not in second.banner and "Removed" not in second.banner
    assert "Nothing changed" in second.banner
    result = await chat.results(poll)
    assert [o["votes"] for o in result["options"]] == [1, 1]  # type: ignore[index]
    assert result["participants"] == 1

    # A single-choice form sent twice: recorded once, and the second time says so.
    single = await chat.create('poll "Q?" "A" "B"')
    page = await browser.get(f"/c/{single}")
    once = [("csrf", page.field("csrf")), ("sub", page.field("sub")), ("intent", "vote")]
    await browser.post(f"/c/{single}", [*once, ("choice", "1")])
    twice = await browser.post(f"/c/{single}", [*once, ("choice", "2")])
    assert "We already have that" in twice.banner
    assert [o["votes"] for o in (await chat.results(single))["options"]] == [1, 0]  # type: ignore[index]

    # Unticking a box removes that choice only.
    fewer = await browser.submit(f"/c/{poll}", "vote", [("choice", "2")])
    assert "Removed “Mon”" in fewer.banner
    assert [o["votes"] for o in (await chat.results(poll))["options"]] == [0, 1]  # type: ignore[index]


async def test_scale_and_answer(chat: ChatApp, browser: Browser) -> None:
    scale = await chat.create('scale "Clause 3 is clear"')
    page = await browser.get(f"/c/{scale}")
    assert page.text.count('type="radio"') == 5 and "Strongly agree" in page.text
    voted = await browser.submit(f"/c/{scale}", "vote", [("choice", "4")])
    assert "privacy" in voted.banners.lower()  # notice mode: with the first stored response
    assert (await chat.results(scale))["options"][3] == {"label": "Agree", "votes": 1}  # type: ignore[index]

    question = await chat.create('ask "What would improve the high street?"')
    page = await browser.get(f"/c/{question}")
    assert "<textarea" in page.text and 'data-maxlength="4000"' in page.text
    assert ' maxlength="4000"' not in page.text  # a count, not a silent cut
    done = await browser.submit(f"/c/{question}", "answer", [("answer", "More benches")])
    assert "your answer is recorded" in done.banner
    assert "privacy" not in done.banners.lower()  # told once, with the first vote
    result = await chat.results(question)
    assert result["answers"] == [
        {"text": "More benches", "platform": "web", "status": "visible", "language": "en"}
    ]
    assert "You have sent 1 answer" in done.plain


async def test_form_errors_are_shown_and_nothing_dispatched(
    chat: ChatApp, browser: Browser
) -> None:
    poll = await chat.create('poll "Q?" "A" "B"')
    empty = await browser.submit(f"/c/{poll}", "vote", [])
    assert empty.status == 400
    assert "There is a problem" in empty.plain and "Select one option" in empty.plain
    assert empty.text.startswith("<!DOCTYPE html>") and "<title>Error:" in empty.text
    question = await chat.create('ask "Ideas?"')
    blank = await browser.submit(f"/c/{question}", "answer", [("answer", "   ")])
    assert blank.status == 400 and "Enter your answer" in blank.plain
    long = await browser.submit(f"/c/{question}", "answer", [("answer", "x" * 4001)])
    assert long.status == 400 and "4000 characters or fewer" in long.plain
    assert "x" * 4001 in long.text  # what they wrote is kept
    tampered = await browser.submit(f"/c/{poll}", "vote", [("choice", "9")])
    assert tampered.status == 400
    assert (await chat.results(poll))["responses"] == 0
    assert (await chat.results(question))["responses"] == 0


async def test_post_without_csrf_token_or_cookie_is_refused(
    chat: ChatApp, browser: Browser
) -> None:
    poll = await chat.create('poll "Q?" "A" "B"')
    page = await browser.get(f"/c/{poll}")
    no_token = await browser.post(
        f"/c/{poll}", {"sub": page.field("sub"), "intent": "vote", "choice": "1"}
    )
    assert no_token.status == 403
    forged = await browser.post(
        f"/c/{poll}",
        {"csrf": "0" * 64, "sub": page.field("sub"), "intent": "vote", "choice": "1"},
    )
    assert forged.status == 403
    stranger = Browser(chat.base)  # another site posting into our form: no cookie, no token
    try:
        cross = await stranger.post(
            f"/c/{poll}",
            {"csrf": page.field("csrf"), "sub": page.field("sub"), "intent": "vote", "choice": "1"},
        )
    finally:
        await stranger.close()
    assert cross.status == 403 and "Nothing was recorded" in cross.plain
    assert (await chat.results(poll))["responses"] == 0


async def test_rate_limit_answers_429(chat: ChatApp, browser: Browser) -> None:
    from bot.ratelimit import RateLimiter

    chat.web.limit_visitor = RateLimiter(2, 60.0)
    poll = await chat.create('poll "Q?" "A" "B"')
    for choice in ("1", "2"):
        assert (await browser.submit(f"/c/{poll}", "vote", [("choice", choice)])).status == 200
    limited = await browser.submit(f"/c/{poll}", "vote", [("choice", "1")])
    assert limited.status == 429
    assert "too many answers in a short time" in limited.plain
    async with browser.session.post(f"/c/{poll}", data={}) as raw:
        assert raw.status == 429 and int(raw.headers["Retry-After"]) >= 1
    assert [o["votes"] for o in (await chat.results(poll))["options"]] == [0, 1]  # type: ignore[index]


async def test_closed_item_says_so_and_shows_results(chat: ChatApp, browser: Browser) -> None:
    poll = await chat.create('poll "Q?" "A" "B" --results closed')
    stale = await browser.get(f"/c/{poll}")
    await browser.submit(f"/c/{poll}", "vote", [("choice", "1")])
    assert "Results so far" not in (await browser.get(f"/c/{poll}")).plain  # hidden till close
    await chat.app.dispatch(chat.people.command("officer", f"close {poll}"))
    page = await browser.get(f"/c/{poll}")
    assert "This item is closed" in page.plain and "<form" in page.text  # privacy forms only
    assert 'name="choice"' not in page.text
    assert "Results" in page.plain and "100.0%" in page.plain
    late = await browser.post(
        f"/c/{poll}",
        {"csrf": stale.field("csrf"), "sub": stale.field("sub"), "intent": "vote", "choice": "2"},
    )
    assert "this has closed" in late.banner
    assert [o["votes"] for o in (await chat.results(poll))["options"]] == [1, 0]  # type: ignore[index]


async def test_unknown_item_is_404(browser: Browser) -> None:
    for path in ("/c/zzzzzz", "/c/not-an-id", "/c/%3Cscript%3E"):
        page = await browser.get(path)
        assert page.status == 404 and "Page not found" in page.plain


async def test_explicit_consent_flow(db_url: str, db: Database, clock: FakeClock) -> None:
    async for chat in start_chat_app(chat_settings(db_url, consent="explicit"), db, clock):
        browser = Browser(chat.base)
        try:
            question = await chat.create('ask "Ideas for the park?"')
            waiting = await browser.submit(f"/c/{question}", "answer", [("answer", "A pond")])
            assert "Before we record your answer" in waiting.plain
            assert (await chat.results(question, include_hidden=True))["responses"] == 0
            agree = waiting.form_with("consent:yes")
            data = [
                ("csrf", waiting.field("csrf", agree)),
                ("sub", waiting.field("sub", agree)),
                ("intent", "button"),
                ("button", "consent:yes"),
            ]
            stored = await browser.post(f"/c/{question}", data)
            assert "your answer is recorded" in stored.banner
            assert (await chat.results(question))["answers"] == [
                {"text": "A pond", "platform": "web", "status": "visible", "language": "en"}
            ]
            # Declining keeps nothing.
            other = Browser(chat.base)
            try:
                asked = await other.submit(f"/c/{question}", "answer", [("answer", "Swings")])
                no = asked.form_with("consent:no")
                declined = await other.post(
                    f"/c/{question}",
                    [
                        ("csrf", asked.field("csrf", no)),
                        ("sub", asked.field("sub", no)),
                        ("intent", "button"),
                        ("button", "consent:no"),
                    ],
                )
                assert "nothing was recorded" in declined.banner
            finally:
                await other.close()
            assert (await chat.results(question, include_hidden=True))["responses"] == 1
        finally:
            await browser.close()


async def test_mydata_and_forget(chat: ChatApp, browser: Browser) -> None:
    poll = await chat.create('poll "Q?" "A" "B"')
    await browser.submit(f"/c/{poll}", "vote", [("choice", "2")])
    page = await browser.get(f"/c/{poll}")
    mine = await browser.submit(
        f"/c/{poll}", "command", [("command", "mydata")], form=page.form_with('value="mydata"')
    )
    assert "What Townhall holds about you" in mine.plain and '"choice": "B"' in mine.plain
    asked = await browser.submit(
        f"/c/{poll}", "command", [("command", "forget")], form=page.form_with('value="forget"')
    )
    assert "Erase everything about you?" in asked.plain
    confirm = asked.form_with("forget:confirm")
    done = await browser.post(
        f"/c/{poll}",
        [
            ("csrf", asked.field("csrf", confirm)),
            ("sub", asked.field("sub", confirm)),
            ("intent", "button"),
            ("button", "forget:confirm"),
        ],
    )
    assert "we erased 1 vote" in done.banner
    assert (await chat.results(poll))["responses"] == 0


async def test_publish_to_web_records_the_page_and_private_messages_wait(
    chat: ChatApp, browser: Browser
) -> None:
    poll = await chat.create('poll "Q?" "A" "B"')
    ref = await chat.web.send(Target("public"), Card("Q?", footer=f"Poll {poll}", item=poll))
    assert ref.message_id == f"/c/{poll}"
    await chat.web.edit(ref, Card("Q?"))  # nothing to do: pages render live

    # A moderator hides a web answer: the author sees the notice on their next page.
    question = await chat.create('ask "Ideas?"')
    await browser.submit(
        f"/c/{question}", "answer", [("answer", "You are all idiots, fucking useless")]
    )
    async with chat.app.db.transaction() as session:
        answer_id = (await session.execute(select(func.max(Answer.id)))).scalar_one()
        visitor = (await session.execute(select(Participant.platform_user_id))).scalar_one()
    await chat.app.dispatch(chat.people.command("mod", f"hide A{answer_id}"))
    await chat.app.deliverer.drain()
    assert visitor is not None and len(chat.web.mailbox) == 1
    page = await browser.get(f"/c/{question}")
    assert "A moderator has hidden your answer" in page.banner
    assert len(chat.web.mailbox) == 0
    async with chat.app.db.transaction() as session:
        assert (await session.execute(select(func.count(Publication.id)))).scalar_one() == 2


async def test_text_from_people_is_escaped_and_headers_allow_framing(
    chat: ChatApp, browser: Browser
) -> None:
    poll = await chat.create('poll "<script>alert(1)</script> & more?" "<b>A</b>" "B"')
    page = await browser.get(f"/c/{poll}")
    assert "<script>alert(1)" not in page.text and "<b>A</b>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more?" in page.text
    assert poll not in page.plain  # the internal id is not shown to citizens
    async with browser.session.get(f"/c/{poll}") as response:
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors *" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert "X-Frame-Options" not in response.headers
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"
        cookie = response.headers.getall("Set-Cookie", [])
    # The visitor cookie was set on the first visit; over plain HTTP it is SameSite=Lax.
    first = Browser(chat.base)
    try:
        async with first.session.get(f"/c/{poll}") as response:
            cookie = response.headers.getall("Set-Cookie", [])
    finally:
        await first.close()
    assert len(cookie) == 1 and "HttpOnly" in cookie[0] and "Path=/c/" in cookie[0]
    assert "SameSite=Lax" in cookie[0]


async def test_https_cookie_works_inside_a_frame(chat: ChatApp) -> None:
    poll = await chat.create('poll "Q?" "A" "B"')
    stranger = Browser(chat.base)
    try:
        async with stranger.session.get(
            f"/c/{poll}", headers={"X-Forwarded-Proto": "https"}
        ) as response:
            cookie = response.headers.getall("Set-Cookie", [])
    finally:
        await stranger.close()
    assert "SameSite=None" in cookie[0] and "Secure" in cookie[0] and "Partitioned" in cookie[0]


async def test_a_database_outage_shows_the_503_page_not_a_raw_500(
    chat: ChatApp, browser: Browser
) -> None:
    """Regression: reading the page during an outage answered aiohttp's bare 500."""
    from sqlalchemy.exc import OperationalError

    poll = await chat.create('poll "During an outage?" "Yes" "No"')
    page = await browser.get(f"/c/{poll}")
    loader = chat.web.pages

    async def unreachable(*_args: object) -> None:
        raise OperationalError("SELECT", {}, ConnectionRefusedError("connection refused"))

    chat.web.pages = unreachable  # type: ignore[assignment]
    try:
        shown = await browser.get(f"/c/{poll}")
        assert shown.status == 503 and "problem with the service" in shown.plain
        form = [("csrf", page.field("csrf")), ("sub", page.field("sub")), ("intent", "vote")]
        sent = await browser.post(f"/c/{poll}", [*form, ("choice", "1")])
        assert sent.status == 503 and "problem with the service" in sent.plain
    finally:
        chat.web.pages = loader
    assert [o["votes"] for o in (await chat.results(poll))["options"]] == [0, 0]  # type: ignore[index]
