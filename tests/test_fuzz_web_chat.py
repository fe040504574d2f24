"""Hypothesis-generated web chat form posts: never a 5xx, a traceback or a citizen's words."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from hypothesis import strategies as st

from bot.ratelimit import RateLimiter
from storage.db import Database
from tests.drivers.webchat_kit import Browser, ChatApp, chat_settings, start_chat_app
from tests.fuzz import ODD_STRINGS, SECRET_WORDS, examples, fuzzing, replay
from tests.support import FakeClock

pytestmark = pytest.mark.timeout(240)
Form = list[tuple[str, str]]


@pytest.fixture
async def chat(db_url: str, db: Database, clock: FakeClock) -> AsyncIterator[ChatApp]:
    async for running in start_chat_app(chat_settings(db_url), db, clock):
        yield running


text = st.one_of(st.text(max_size=30), st.sampled_from(ODD_STRINGS), st.just(SECRET_WORDS))
field_names = st.sampled_from(["csrf", "sub", "intent", "choice", "answer", "button", "command"])
intents = st.sampled_from(["vote", "answer", "button", "command", "", "consent", "x"])


def forms(csrf: str, sub: str) -> st.SearchStrategy[Form]:
    """A real form's fields, some replaced, repeated, dropped or added."""
    base = st.tuples(
        st.one_of(st.just(csrf), text),
        st.one_of(st.just(sub), text),
        intents,
        st.lists(st.one_of(st.sampled_from(["1", "2", "3"]), text), max_size=3),
        st.one_of(st.just(SECRET_WORDS), text),
        st.lists(st.tuples(field_names, text), max_size=2),
    )
    return base.map(
        lambda t: [
            ("csrf", t[0]),
            ("sub", t[1]),
            ("intent", t[2]),
            *(("choice", c) for c in t[3]),
            ("answer", t[4]),
            ("button", t[4]),
            ("command", t[4]),
            *t[5],
        ]
    )


async def test_fuzzed_web_chat_forms_are_refused_politely(chat: ChatApp) -> None:
    # one fuzzing client would soon be rate limited: let every case reach the form handling
    chat.web.limit_client = RateLimiter(10**9, 1.0)
    chat.web.limit_visitor = RateLimiter(10**9, 1.0)
    with fuzzing([SECRET_WORDS]) as (findings, _log):
        poll = await chat.create('poll "Bins on Sundays?" "Yes" "No" "Maybe"')
        question = await chat.create('ask "What would help?"')
        browser = Browser(chat.base)
        try:
            pages = {item: await browser.get(f"/c/{item}") for item in (poll, question)}
            cases = [
                (item, form)
                for item in (poll, question)
                for form in examples(
                    forms(pages[item].field("csrf"), pages[item].field("sub")), 900
                )
            ]
            cases += [(path, []) for path in examples(text, 150)]

            async def send(case: tuple[str, Form]) -> int:
                item, form = case
                data = aiohttp.FormData()
                for name, value in form:
                    data.add_field(name, value.encode("utf-8", "replace").decode())
                path = "/c/" + item.encode("utf-8", "replace").hex() if not form else f"/c/{item}"
                async with browser.session.post(path, data=data, allow_redirects=False) as r:
                    await r.read()
                    return r.status

            await replay(cases, send, findings)
            page = await browser.submit(f"/c/{poll}", "vote", [("choice", "2")])
            assert page.status == 200  # still up
        finally:
            await browser.close()
