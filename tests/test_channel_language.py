"""A channel's public cards in one language or both (issue 18): ``townhall channel language``
run as a real process, then cards published in that channel and elsewhere."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import select

from bot.testing import People, RecordingAdapter
from bot.views import Card
from storage.db import Database
from storage.models import AuditEntry
from tests.support import publish
from townhall.app import Townhall

POLL = 'poll "Open the library on Sundays?" "Yes" "No" --cy "Agor y llyfrgell ar y Sul? | Ie | Na"'


def townhall(db: Database, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOWNHALL_")}
    env.update(TOWNHALL_DATABASE_URL=db.url, TOWNHALL_SECRET_KEY="cli-test-secret-key-0123456789")
    return subprocess.run(
        [sys.executable, "-m", "townhall.cli", "channel", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def card_in(adapter: RecordingAdapter, channel: str) -> Card:
    (card,) = [s.view for s in adapter.sent if s.target.channel_id == channel]
    assert isinstance(card, Card)
    return card


async def test_a_channel_shows_its_language_and_others_show_both(
    db: Database, app: tuple[Townhall, RecordingAdapter]
) -> None:
    told = townhall(db, "language", "test:CY1", "cy")
    assert told.returncode == 0 and "test:CY1 now shows cards in: cy." in told.stdout, told
    assert "No change" in townhall(db, "language", "test:CY1", "cy").stdout
    assert townhall(db, "language", "test:EN1", "en").returncode == 0
    refused = townhall(db, "language", "nochannel", "cy")
    assert refused.returncode == 2 and "platform:channel_id" in refused.stderr
    assert townhall(db, "language", "test:EN1", "fr").returncode == 2

    running, adapter = app
    for channel in ("CY1", "EN1", "C1"):
        await publish(running, POLL, people=People(channel=channel))
    welsh, english, both = (card_in(adapter, c) for c in ("CY1", "EN1", "C1"))
    assert welsh.title == "Agor y llyfrgell ar y Sul?"
    assert [b.label for b in welsh.buttons] == ["Ie", "Na"]
    assert english.title == "Open the library on Sundays?"
    assert [b.label for b in english.buttons] == ["Yes", "No"]
    assert both.title == "Open the library on Sundays?\nAgor y llyfrgell ar y Sul?"
    assert [b.label for b in both.buttons] == ["Yes / Ie", "No / Na"]
    async with db.transaction() as session:
        actions = (await session.scalars(select(AuditEntry.action))).all()
    assert actions.count("channel.language") == 2
