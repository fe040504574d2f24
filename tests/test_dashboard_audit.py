"""The audit log page: actions in words (codes kept), one action's rows grouped, reasons in
words. Layout (no overflow at 960 px, times on at most two lines) is checked in Chromium."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import Settings
from dashboard.pages.audit_rows import ACTION_LABELS, action_label
from storage.db import Database
from storage.ledger import AuditLog
from tests.dashboard_support import DashApp, plain, start_dashboard
from tests.support import FakeClock

AT = datetime(2026, 12, 3, 16, 55, tzinfo=UTC)


@pytest.fixture
async def dash(settings: Settings, db: Database, clock: FakeClock) -> AsyncIterator[DashApp]:
    async for running in start_dashboard(settings, db, clock):
        yield running


async def publish_like_the_demo(db: Database) -> None:
    """Creating one item and showing it in three more places writes four rows."""
    async with db.transaction() as session:
        audit = AuditLog(session)
        await audit.record("slack:U1", "item.create", "m4qhsa", AT, kind="scale")
        for platform in ("telegram", "discord", "web"):
            await audit.record(
                "slack:U1", "item.publish", "m4qhsa", AT, platform=platform, channel="C"
            )
        later = AT + timedelta(minutes=5)
        await audit.record("system:scheduler", "item.close", "m4qhsa", later)
        await audit.record(
            "slack:U2", "answer.hide", "A15", later, reasons=["abuse", "personal:phone"], why="x"
        )


def test_every_action_written_has_words() -> None:
    assert action_label("item.publish") == "Published an item"
    assert action_label("something.new") == "something.new"
    assert len(set(ACTION_LABELS.values())) == len(ACTION_LABELS)


async def test_one_action_is_one_row_with_words_and_codes(dash: DashApp) -> None:
    await publish_like_the_demo(dash.app.db)
    moderator = await dash.sign_in("moderator")
    page = (await moderator.get("/audit")).text
    rows = re.findall(r'<tr class="govuk-table__row">(.*?)</tr>', page, re.S)[1:]  # no head
    shown = [plain(row) for row in rows]
    assert len(shown) == 3 + 1  # hide, close, the publish group, and this sign-in
    group = next(row for row in shown if "m4qhsa" in row and "Created" in row)
    assert "Created an item item.create" in group
    assert "Published an item (3 times) item.publish" in group
    assert "kind: scale" in group and "platform: web; channel: C" in group
    assert "3 Dec 2026 16:55:00" in group
    hidden = next(row for row in shown if "A15" in row)
    assert "Hid an answer" in hidden and "Abusive language, Phone number" in hidden
    assert "personal:phone" not in hidden
    assert "7 entries, shown as 4 actions" in plain(page)
    # The code still filters.
    filtered = plain((await moderator.get("/audit?action=item.")).text)
    assert "Published an item" in filtered and "Hid an answer" not in filtered
