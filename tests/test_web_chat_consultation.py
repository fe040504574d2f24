"""The web chat's consultation page ``/c/<slug>``: a draft is not found, the page asks the
visitor's next question, STOP is a button, and the policy team's responses are shown."""

from __future__ import annotations

import re
from pathlib import Path

from bot.views import Card
from services import consultations
from services.consultation_file import load_file, load_text
from storage.consultations import ConsultationRepository
from storage.db import Database
from tests.drivers.webchat_kit import Browser, chat_settings, start_chat_app
from tests.support import FakeClock, said

CONSULTATION = Path(__file__).resolve().parent / "data" / "consultation-12.yaml"
SLUG = "library-bill"


async def test_the_consultation_page(db_url: str, db: Database, clock: FakeClock) -> None:
    async with db.transaction() as session:
        plan = load_file(CONSULTATION, now=clock())
        await consultations.load(session, plan, new_version=False, actor="cli", now=clock())
    async for chat in start_chat_app(chat_settings(db_url), db, clock):
        browser = Browser(chat.base)
        try:
            assert (await browser.get(f"/c/{SLUG}")).status == 404  # a draft
            assert (await browser.get("/c/no-such-thing")).status == 404
            notices = await chat.app.dispatch(chat.people.command("officer", f"publish {SLUG}"))
            assert "Published consultation" in said(notices.notices)
            page = await browser.get(f"/c/{SLUG}")
            assert page.status == 200
            assert "Draft Libraries Bill · 1 of 12" in page.plain
            assert "We never store your name" in page.plain  # before the first answer
            voted = await browser.submit(f"/c/{SLUG}", "vote", [("choice", "4")])
            assert "2 of 12" in voted.plain and "We never store your name" not in voted.plain
            assert "Each council must provide a library service." in voted.plain  # the clause
            assert voted.url.endswith(f"/c/{SLUG}")

            told = await chat.app.dispatch(
                chat.people.command("officer", f'respond {SLUG} "Libraries stay open."')
            )
            assert "sent to 1 participant." in said(told.notices)
            page = await browser.get(f"/c/{SLUG}")
            assert "You said, we did" in page.plain and "Libraries stay open." in page.plain

            form = page.form_with('value="stop"')
            data = [
                ("csrf", page.field("csrf", form)),
                ("sub", page.field("sub", form)),
                ("intent", "command"),
                ("command", "stop"),
            ]
            stopped = await browser.post(f"/c/{SLUG}", data)
            assert "no more consultation messages" in stopped.plain
            async with db.transaction() as session:
                found = await ConsultationRepository(session).latest(SLUG)
                assert found is not None
                assert await ConsultationRepository(session).took_part(found) == []
        finally:
            await browser.close()


LONG = """slug: long-bill
title: A long Bill
closes: 14d
items:
  - kind: clauses
    text: |
      ## 1. Everything
      {body}
"""


async def test_a_long_clause_is_clipped_in_chat_with_a_link_to_its_full_text(
    db_url: str, db: Database, clock: FakeClock
) -> None:
    body = " ".join(f"Word{n}" for n in range(600))  # about 4,000 characters
    async with db.transaction() as session:
        plan = load_text(LONG.format(body=body), name="long.yaml", base=Path("."), now=clock())
        await consultations.load(session, plan, new_version=False, actor="cli", now=clock())
    async for chat in start_chat_app(chat_settings(db_url), db, clock):
        browser = Browser(chat.base)
        try:
            await chat.app.dispatch(chat.people.command("officer", "publish long-bill"))
            outcome = await chat.app.dispatch(chat.people.command("ann", "start long-bill"))
            card = [n for n in outcome.notices if isinstance(n, Card)][-1]
            assert "Word100 " in card.body and "Word599" not in card.body
            assert len(card.body) < 1800
            link = re.search(r"Full text: \S+(/c/\w+)", card.body)
            assert link, card.body
            page = await browser.get(link.group(1))
            assert page.status == 200 and "Word599" in page.plain
        finally:
            await browser.close()
