"""The :class:`PlatformDriver` protocol: what a person does on a platform, written once.

A driver runs the real core with one platform's real adapter (and, for Slack, Telegram and
Discord, the platform's real library against the fake servers in ``tests/fakes/``) and acts
like the people there: the policy officer ``"officer"``, the moderator ``"mod"`` and citizens
named ``"ann"``, ``"bob"``, ``"cat"``, ``"dan"`` and ``"eve"``. Every method returns what the
person was told, as plain text, so one scenario suite (``tests/test_scenarios.py``) can assert
the same story on every platform.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from sqlalchemy import select

from services import results
from storage.db import Database
from storage.items import ItemRepository
from storage.models import AuditEntry
from townhall.app import Townhall

CITIZENS = ("ann", "bob", "cat", "dan", "eve")
REF = re.compile(r"\b(A\d+)\b")


class PlatformDriver(Protocol):
    """One platform, driven the way its people use it."""

    #: The platform name stored with votes and answers ("telegram", "web", ...).
    platform: str
    app: Townhall
    #: False where the platform offers no report gesture (the web chat): reports of answers
    #: written there come from another platform.
    reports_here: bool

    async def publish(self, command: str) -> str:
        """The officer runs ``command`` (core grammar, e.g. ``poll "Q?" "A" "B"``) where the
        consultation happens; returns the new item's short id once its card is out."""
        ...

    async def vote(self, who: str, item: str, position: int, *, deliveries: int = 1) -> str:
        """``who`` presses option ``position`` (1-based) of ``item``. ``deliveries=2``: the
        platform delivers that same event twice (a retry after a lost acknowledgement)."""
        ...

    async def answer(self, who: str, item: str, text: str) -> str:
        """``who`` answers the open question ``item`` the usual way on this platform."""
        ...

    async def opinions(self, who: str, item: str) -> str:
        """``who`` presses "Vote on statements" under the statements item ``item``: the next
        statement they have not voted on, with Agree / Disagree / Pass (issue 20)."""
        ...

    async def refused(self, who: str, item: str) -> str:
        """``who`` sends input that must be refused (an officer's command from a citizen; on
        the web chat, a form our page never offers)."""
        ...

    async def report(self, who: str, ref: str) -> str:
        """``who`` reports the answer ``ref`` (``A12``) with the platform's report gesture."""
        ...

    async def queue(self) -> list[str]:
        """The moderator opens the moderation queue; the answer refs on it, oldest first."""
        ...

    async def decide(self, ref: str, label: str) -> str:
        """The moderator presses ``label`` ("Approve", "Hide", ...) on ``ref``'s queue card."""
        ...

    async def moderate(self, who: str, command: str) -> str:
        """``who`` runs a moderator's ``command`` (core grammar: ``flagged``, ``approve A1``)
        the platform's way."""
        ...

    async def forge(self, who: str, ref: str, label: str) -> str:
        """``who`` sends a click on the moderation button ``label`` of ``ref`` that they were
        never shown (forged callback data, a click on someone else's card, a posted form)."""
        ...

    async def agree(self, who: str) -> str:
        """``who`` presses "I agree" on the consent card the bot gave them."""
        ...

    async def decline(self, who: str) -> str:
        """``who`` presses "No thanks" on the consent card the bot gave them."""
        ...

    async def platform_says(self, who: str, language: str) -> bool:
        """From now on ``who``'s platform says they read ``language`` (Telegram's app
        language, the browser's Accept-Language); False where the platform cannot say it."""
        ...

    async def mydata(self, who: str) -> str:
        """``who`` asks for a copy of what is held about them; the copy as one text."""
        ...

    async def forget(self, who: str, *, confirm: bool = True) -> str:
        """``who`` asks to be forgotten and confirms (or presses Cancel)."""
        ...

    async def close(self, item: str) -> str:
        """The officer closes ``item``; the outbox is drained so the results are out."""
        ...

    async def shown(self, item: str) -> str:
        """Everything the public sees of ``item`` on the platform now (cards and results)."""
        ...

    # -- consultations (docs/consultations.md) ---------------------------------------------
    async def officer(self, command: str) -> str:
        """The officer runs a consultation command (``publish SLUG``, ``close SLUG`` ...)
        where the consultation happens; what they were told."""
        ...

    async def start(self, who: str, slug: str) -> str:
        """``who`` starts or resumes the consultation the platform's way: the Start button
        under its introduction (``start SLUG`` in the console, ``/c/SLUG`` on the web)."""
        ...

    async def tap(self, who: str, label: str) -> str:
        """``who`` presses ``label`` on the newest consultation card they were shown."""
        ...

    async def write(self, who: str, label: str, text: str) -> str:
        """``who`` gives free text with the newest card's ``label`` button (Answer, Say why,
        Comment): a form where the platform has forms, else their next message."""
        ...


class Records:
    """Read-only checks through the core's own services (what the CLI would print)."""

    app: Townhall
    reports_here = True

    @property
    def db(self) -> Database:
        return self.app.db

    async def tally(self, item: str, *, include_hidden: bool = False) -> dict[str, Any]:
        """Exactly what ``townhall results ID --json [--include-hidden]`` prints."""
        async with self.db.transaction() as session:
            found = await ItemRepository(session).by_short_id(item)
            assert found is not None, item
            summary = await results.compute(session, found, include_hidden=include_hidden)
            return summary.to_json()

    async def votes(self, item: str) -> list[int]:
        return [o["votes"] for o in (await self.tally(item))["options"]]

    async def visible(self, item: str) -> list[str]:
        return [a["text"] for a in (await self.tally(item))["answers"]]

    async def statuses(self, item: str) -> dict[str, str]:
        answers = (await self.tally(item, include_hidden=True))["answers"]
        return {a["text"]: a["status"] for a in answers}

    async def audit(self) -> list[tuple[str, str, str]]:
        async with self.db.transaction() as session:
            rows = (await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars()
            return [(r.actor, r.action, r.target) for r in rows]


def published_id(text: str) -> str:
    """The new item's short id in the officer's confirmation ("Published poll k3m9xq ...")."""
    found = re.search(r"Published \w+ (\w{6})", text)
    assert found, f"nothing published: {text!r}"
    return found.group(1)


def ref_in(text: str) -> str:
    found = REF.search(text)
    assert found, f"no answer reference in {text!r}"
    return found.group(1)


def is_start(label: str) -> bool:
    """A Start button: ``Start``, or ``Start / Dechrau`` under a bilingual introduction."""
    return label.split(" / ")[0] == "Start"
