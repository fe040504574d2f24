"""Shared set-up for the Discord moderation and privacy tests (no tests here).

Townhall with the Discord adapter, the real discord.py against the fake Discord (REST and
gateway), one database per run (SQLite or PostgreSQL), a moderator named in
``TOWNHALL_MODERATORS``, and helpers that act like members of the server: answer in the
question's thread or in the Answer form, right-click → "Report to moderators", run
``/townhall ...``, click a button on a private (ephemeral) message.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import select

from bot.context import Clock, utc_now
from services import exports, results
from storage.db import Database
from storage.items import ItemRepository
from storage.models import Answer, AuditEntry
from tests.drivers.discord_kit import (
    GUILD_ID,
    OWNER,
    Harness,
    Payload,
    button_ids,
    discord_settings,
    town_guild,
)
from tests.fakes.discord import FLAG_EPHEMERAL, FakeDiscord, FakeUser

#: The server owner doubles as the moderator (TOWNHALL_MODERATORS=discord:<id>).
MODERATOR = OWNER
REPORT_MENU = "Report to moderators"
ASK = "What would make the high street better?"

__all__ = ["ASK", "MODERATOR", "REPORT_MENU", "Mod", "running"]


@asynccontextmanager
async def running(
    db_url: str, db: Database, *, clock: Clock = utc_now, **overrides: Any
) -> AsyncIterator[Mod]:
    """A started harness with thread answers on and a moderator; stopped and checked after."""
    async with FakeDiscord(guilds=[town_guild()], patch_discord_py=False, echo_events=True) as fake:
        values: dict[str, Any] = {
            "moderators": f"discord:{MODERATOR.id}",
            "discord_thread_answers": True,
        }
        values.update(overrides)
        harness = Mod(fake, discord_settings(db_url, fake, **values), db, clock)
        await harness.start()
        try:
            yield harness
        finally:
            await harness.stop()
        fake.assert_no_unhandled()


def ref_in(text: str) -> str:
    """The answer reference (``A12``) in a confirmation."""
    found = re.search(r"\bref (A\d+)", text)
    assert found, text
    return found.group(1)


def embed_text(message: Payload) -> str:
    """Everything a person reads in a message: content, embed titles, bodies, fields, footers."""
    out = [message.get("content") or ""]
    for embed in message.get("embeds") or []:
        out += [embed.get("title") or "", embed.get("description") or ""]
        out += [f"{f['name']}: {f['value']}" for f in embed.get("fields") or []]
        out.append((embed.get("footer") or {}).get("text", ""))
    return "\n".join(part for part in out if part)


class Mod(Harness):
    """The Discord harness plus what members and moderators do in moderation and privacy."""

    async def ask(self, question: str = ASK, **options: Any) -> tuple[str, int, int]:
        """The officer publishes an open question: its short id, card message id and the id of
        its answer thread (Discord gives a thread the id of the message it starts from)."""
        short_id, message_id = await self.publish("ask", {"question": question, **options})
        thread = self.fake.channels[message_id]
        assert thread.is_thread and thread.parent_id is not None
        return short_id, message_id, thread.id

    async def write(self, thread_id: int, user: FakeUser, text: str) -> Payload:
        """A member writes in the question's thread; waits until the adapter is done."""
        message = self.fake.user_message(thread_id, user, text)
        await self.fake.dispatch("MESSAGE_CREATE", message)
        assert await self.discord.settled.wait(message["id"]) == ["ok"]
        return message

    def bot_replies_to(self, message: Payload) -> list[Payload]:
        """The bot's public replies to a member's message (in the same channel)."""
        return [
            m
            for m in self.fake.channel_messages(int(message["channel_id"]))
            if m["author"]["id"] == str(self.fake.bot_user.id)
            and (m.get("message_reference") or {}).get("message_id") == message["id"]
        ]

    async def thread_answer(self, thread_id: int, user: FakeUser, text: str) -> tuple[str, Payload]:
        """An answer written in the thread: its reference and the member's message."""
        message = await self.write(thread_id, user, text)
        (confirmation,) = self.bot_replies_to(message)
        return ref_in(confirmation["content"]), message

    async def modal_answer(
        self, message_id: int, short_id: str, user: FakeUser, text: str
    ) -> Payload:
        """Answer → the form opens → submit: the submission's payload (its response is the
        private confirmation, or the consent card)."""
        click = await self.click(message_id, f"answer:{short_id}", user)
        modal = self.fake.interaction(click).modal
        assert modal is not None
        submit = self.fake.modal_submit(modal["custom_id"], {"answer": text}, source=click)
        return await self.deliver(submit)

    async def report(self, user: FakeUser, message: Payload | int) -> Payload:
        """Right-click a message → Apps → "Report to moderators"."""
        payload = self.fake.message_context_menu(GUILD_ID, None, user, REPORT_MENU, message)
        return await self.deliver(payload)

    def private(self, payload: Payload) -> list[Payload]:
        """Every message that answered an interaction (the response, then followups); all of
        them must be ephemeral: only the person who acted sees them."""
        record = self.fake.interaction(payload)
        assert record.original_message_id is not None, f"no response to {payload['id']}"
        ids = [record.original_message_id, *record.followup_message_ids]
        messages = [self.fake.get_message(i) for i in ids]
        for message in messages:
            assert message["flags"] & FLAG_EPHEMERAL, f"not ephemeral: {embed_text(message)}"
        return messages

    def private_text(self, payload: Payload) -> str:
        return "\n".join(embed_text(m) for m in self.private(payload))

    def with_button(self, payload: Payload, custom_id: str) -> Payload:
        """The one private answer to ``payload`` that carries the button ``custom_id``."""
        (found,) = [m for m in self.private(payload) if custom_id in button_ids(m)]
        return found

    async def queue(self) -> Payload:
        """The moderator runs ``/townhall flagged``."""
        return await self.slash(MODERATOR, "flagged")

    # -- reading the database through the core ----------------------------------------------

    async def statuses(self, short_id: str) -> list[tuple[str, str]]:
        """(text, status) of every answer, hidden and held ones too (the CLI's
        ``results --include-hidden``)."""
        async with self.townhall.db.transaction() as session:
            item = await ItemRepository(session).by_short_id(short_id)
            assert item is not None
            data = (await results.compute(session, item, include_hidden=True)).to_json()
        return [(a["text"], a["status"]) for a in data["answers"]]

    async def export_rows(self, short_id: str) -> list[dict[str, Any]]:
        async with self.townhall.db.transaction() as session:
            item = await ItemRepository(session).by_short_id(short_id)
            assert item is not None
            return await exports.rows(session, item)

    async def audit(self) -> list[tuple[str, str, str]]:
        async with self.townhall.db.transaction() as session:
            rows = await session.execute(select(AuditEntry).order_by(AuditEntry.id))
            return [(r.actor, r.action, r.target) for r in rows.scalars()]

    async def answer_row(self, ref: str) -> Answer:
        async with self.townhall.db.transaction() as session:
            answer = await session.get(Answer, int(ref.removeprefix("A")))
            assert answer is not None
            return answer
