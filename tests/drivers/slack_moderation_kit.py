"""Shared set-up for the Slack moderation and privacy tests (no tests here).

One running Townhall with the Slack adapter behind the real slack-bolt over HTTP, a fake Slack
Web API, a moderator and an officer from the settings, and helpers that act like the people in
Slack: write in a thread, answer in a modal, run ``/townhall``, click a private card.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from services import results
from storage.db import Database
from storage.items import ItemRepository
from storage.models import Answer, AuditEntry
from tests.drivers.slack_kit import (
    ASK,
    CHANNEL,
    OFFICER,
    POLL,
    Slack,
    buttons,
    running_slack,
)
from tests.fakes.slack import SlackHttpResult
from tests.support import FakeClock

MODERATOR = "U0MOD"
__all__ = ["ASK", "CHANNEL", "MODERATOR", "OFFICER", "POLL", "Mod", "buttons", "running"]

_ack_ts = itertools.count(1)


def block_text(message: dict[str, Any]) -> str:
    """Every piece of text a person sees in a message's blocks, in order."""
    out: list[str] = []
    for block in message.get("blocks") or []:
        if isinstance(block.get("text"), dict):
            out.append(block["text"]["text"])
        out.extend(f["text"] for f in block.get("fields") or [])
        out.extend(
            e["text"]["text"] if e.get("type") == "button" else e.get("text", "")
            for e in block.get("elements") or []
        )
    return "\n".join(out)


@dataclass
class Mod(Slack):
    """The Slack harness from test_slack_adapter plus moderation and privacy helpers."""

    async def private(self, user: str, text: str) -> list[dict[str, Any]]:
        """``/townhall <text>``: every private message it produced (the acknowledgement and
        any follow-ups), each clickable with :meth:`click`."""
        await self.adapter.settle()  # earlier confirmations are not part of this answer
        before = len(self.fake.ephemerals)
        result = await self.command(user, text)
        assert result.status == 200, result.body
        await self.adapter.settle()
        later = [e for e in self.fake.ephemerals[before:] if e["user"] == user]
        return [self.keep_ack(user, result), *later]

    def keep_ack(self, user: str, result: SlackHttpResult) -> dict[str, Any]:
        """Slack shows a slash command's ephemeral acknowledgement as a message with a ts;
        record it in the fake so a click on it can be answered in its place."""
        body = result.json()
        assert body["response_type"] == "ephemeral", body
        message = {
            "channel": CHANNEL,
            "user": user,
            "ts": f"1799999999.{next(_ack_ts):06d}",
            "text": body["text"],
            "blocks": body.get("blocks") or [],
            "thread_ts": None,
            "source": "ack",
        }
        self.fake.ephemerals.append(message)
        return message

    async def click(self, user: str, ephemeral: dict[str, Any], action_id: str) -> dict[str, Any]:
        """Click a button on a private (ephemeral) message; returns that message afterwards."""
        result = await self.client.block_action(
            user, str(ephemeral["channel"]), ephemeral, action_id, is_ephemeral=True
        )
        assert (result.status, result.body) == (200, ""), result
        await self.adapter.settle()
        return self.ephemeral(ephemeral["ts"])

    def ephemeral(self, ts: str) -> dict[str, Any]:
        (found,) = [e for e in self.fake.ephemerals if e["ts"] == ts]
        return dict(found)

    async def reply(self, user: str, card: dict[str, Any], text: str) -> dict[str, Any]:
        """``user`` writes ``text`` in the item card's thread; returns the stored message."""
        message = self.client.message_event(user, CHANNEL, text, thread_ts=card["ts"])
        assert (await self.client.event(message)).status == 200
        await self.adapter.settle()
        return message

    async def modal_answer(self, user: str, card: dict[str, Any], text: str) -> dict[str, Any]:
        """Answer through the card's Answer button and modal; returns the modal afterwards."""
        (answer,) = [b for b in buttons(card) if b["action_id"].startswith("form:answer:")]
        clicked = await self.client.block_action(user, CHANNEL, card, answer["action_id"])
        assert clicked.status == 200
        submitted = await self.client.view_submission(
            user, answer["action_id"], values={"answer": {"text": text}}
        )
        assert submitted.status == 200, submitted.body
        modal = self.fake.find_view(user_id=user)
        assert modal is not None
        return modal

    async def report(self, user: str, message: dict[str, Any]) -> str:
        """The "Report to moderators" shortcut on a message; returns what the reporter hears."""
        before = len(self.fake.ephemerals_for(user))
        result = await self.client.message_shortcut(user, CHANNEL, message, "report")
        assert (result.status, result.body) == (200, "")
        await self.adapter.settle()
        (said,) = self.fake.ephemerals_for(user)[before:]
        return str(said["text"])

    async def tally(self, short_id: str, *, include_hidden: bool = False) -> dict[str, Any]:
        """What ``townhall results ID --json [--include-hidden]`` prints."""
        async with self.app.db.transaction() as session:
            item = await ItemRepository(session).by_short_id(short_id)
            assert item is not None
            computed = await results.compute(session, item, include_hidden=include_hidden)
            return computed.to_json()

    async def visible_texts(self, short_id: str) -> list[str]:
        return [a["text"] for a in (await self.tally(short_id))["answers"]]

    async def statuses(self, short_id: str) -> list[tuple[str, str]]:
        answers = (await self.tally(short_id, include_hidden=True))["answers"]
        return [(a["text"], a["status"]) for a in answers]

    async def audit(self) -> list[tuple[str, str, str]]:
        async with self.app.db.transaction() as session:
            rows = (await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars()
            return [(r.actor, r.action, r.target) for r in rows]

    async def answers(self) -> list[Answer]:
        async with self.app.db.transaction() as session:
            query = select(Answer).order_by(Answer.id)
            return list((await session.execute(query)).scalars().all())


def ref_in(text: str) -> str:
    found = re.search(r"\b(A\d+)\b", text)
    assert found, text
    return found.group(1)


@asynccontextmanager
async def running(
    db_url: str, db: Database, clock: FakeClock, **overrides: Any
) -> AsyncIterator[Mod]:
    """Townhall with the Slack adapter; ``U0MOD`` moderates, ``U0OFFICER`` is policy team."""
    moderators = f"slack:{MODERATOR}"
    async with running_slack(db_url, db, clock, Mod, moderators=moderators, **overrides) as mod:
        yield mod
