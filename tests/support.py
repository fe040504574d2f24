"""Test helpers: publish and answer through the core, what the bot said.

The recording adapter, the fake clock and the event builders live in :mod:`bot.testing`
(shipped for anyone testing their own handlers); they are re-exported here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from bot.testing import FakeClock, People, RecordingAdapter, Sent

__all__ = ["FakeClock", "People", "RecordingAdapter", "Sent", "answer_ref", "publish", "said"]

if TYPE_CHECKING:
    from townhall.app import Townhall


def said(notices: Iterable[object]) -> str:
    """What the bot said back, as one string."""
    return " ".join(str(getattr(n, "text", "")) for n in notices)


async def publish(
    app: Townhall, command: str, user: str = "officer", people: People | None = None
) -> str:
    """Publish an item with a chat command as a policy officer; its short id (outbox drained)."""
    outcome = await app.dispatch((people or People()).command(user, command))
    found = re.search(r"Published \w+ (\w{6})", said(outcome.notices))
    assert found, said(outcome.notices)
    await app.deliverer.drain()
    return found.group(1)


async def answer_ref(
    app: Townhall, short_id: str, text: str, user: str, platform: str = "test"
) -> str:
    """Answer an open question from ``platform``; the reference the bot gives (``A12``)."""
    outcome = await app.dispatch(People(platform).submit(user, short_id, text))
    found = re.search(r"ref (A\d+)", said(outcome.notices))
    assert found, said(outcome.notices)
    return found.group(1)
