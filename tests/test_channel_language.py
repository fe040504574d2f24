"""A channel's public cards in one language or both (issue 18): ``townhall channel language``
run as a real process, then cards published in that channel and elsewhere."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from bot.testing import People, RecordingAdapter
from bot.views import Card
from services import consultations
from services.consultation_file import load_file
from storage.db import Database
from storage.models import AuditEntry
from tests.support import publish
from townhall.app import Townhall

DATA = Path(__file__).resolve().parent / "data"
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


def card_in(adapter: RecordingAdapter, channel: str, *, after: int = 0) -> Card:
    (card,) = [s.view for s in adapter.sent[after:] if s.target.channel_id == channel]
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
    polls = [await publish(running, POLL, people=People(channel=c)) for c in ("CY1", "EN1", "C1")]
    welsh, english, both = (card_in(adapter, c) for c in ("CY1", "EN1", "C1"))
    assert welsh.title == "Agor y llyfrgell ar y Sul?"
    assert [b.label for b in welsh.buttons] == ["Ie", "Na"]
    assert english.title == "Open the library on Sundays?"
    assert [b.label for b in english.buttons] == ["Yes", "No"]
    assert both.title == "Open the library on Sundays?\nAgor y llyfrgell ar y Sul?"
    assert [b.label for b in both.buttons] == ["Yes / Ie", "No / Na"]

    # The results posted when it closes, and a consultation's introduction, follow the same.
    before = len(adapter.sent)
    for poll, channel in zip(polls, ("CY1", "EN1", "C1"), strict=True):
        await running.dispatch(People(channel=channel).command("officer", f"close {poll}"))
    await running.deliverer.drain()
    results = {
        c: [s.view for s in adapter.sent[before:] if s.target.channel_id == c]
        for c in ("CY1", "EN1", "C1")
    }
    titles = {c: [v.title for v in views if isinstance(v, Card)] for c, views in results.items()}
    assert "Canlyniadau: Agor y llyfrgell ar y Sul?" in titles["CY1"], titles
    assert "Results: Open the library on Sundays?" in titles["EN1"]
    both_results = "Results: Open the library on Sundays?\nCanlyniadau: Agor y llyfrgell ar y Sul?"
    assert both_results in titles["C1"], titles
    now = running.clock()
    async with db.transaction() as session:
        plan = load_file(DATA / "consultation-cy.yaml", now=now)
        await consultations.load(session, plan, new_version=False, actor="cli", now=now)
    before = len(adapter.sent)
    await running.dispatch(People(channel="C1").command("officer", "publish bus-plan"))
    await running.deliverer.drain()
    intro = card_in(adapter, "C1", after=before)
    assert intro.title == "Bus Routes Plan\nCynllun Llwybrau Bysiau"
    assert [b.label for b in intro.buttons] == ["Start / Dechrau"]
    async with db.transaction() as session:
        actions = (await session.scalars(select(AuditEntry.action))).all()
    assert actions.count("channel.language") == 2
