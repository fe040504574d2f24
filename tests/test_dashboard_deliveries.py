"""Failed deliveries on the dashboard: listed for the policy team, sent again with Retry
(CSRF-checked, audited); moderators cannot see or use it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.errors import DeliveryError
from storage.db import Database
from storage.models import AuditEntry, OutboxMessage
from tests.dashboard_support import DashApp, start_dashboard
from tests.support import FakeClock

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def dash(settings: Settings, db: Database, clock: FakeClock) -> AsyncIterator[DashApp]:
    async for running in start_dashboard(settings, db, clock):
        yield running


async def test_failed_deliveries_are_listed_and_retried_once(dash: DashApp) -> None:
    recording = dash.running.test
    recording.failures.append(DeliveryError("channel_not_found", permanent=True))
    await dash.create('poll "Never shown?" "Yes" "No"')
    assert recording.cards() == []

    moderator = await dash.sign_in("moderator")
    assert (await moderator.get("/deliveries")).status == 403
    officer = await dash.sign_in("policy")
    page = await officer.get("/deliveries")
    assert page.status == 200 and "Never shown?" in page.text and "channel_not_found" in page.text
    async with dash.app.db.transaction() as session:
        [row] = (
            await session.execute(select(OutboxMessage).where(OutboxMessage.status == "failed"))
        ).scalars()

    refused = await officer.post(f"/deliveries/{row.id}/retry", {"csrf": "forged"})
    assert refused.status == 403
    token = await officer.csrf("/deliveries")
    done = await officer.post(f"/deliveries/{row.id}/retry", {"csrf": token})
    assert done.status == 200 and "sent again" in done.text
    again = await officer.post(f"/deliveries/{row.id}/retry", {"csrf": token})
    assert "not waiting for a retry" in again.text  # a double click sends it once
    await dash.app.deliverer.drain()
    assert [c.title for c in recording.cards()] == ["Never shown?"]
    assert "Nothing has failed" in (await officer.get("/deliveries")).text
    async with dash.app.db.transaction() as session:
        audit = (
            (await session.execute(select(AuditEntry).where(AuditEntry.action == "outbox.retry")))
            .scalars()
            .all()
        )
    assert [(a.actor, a.target) for a in audit] == [(officer.subject, f"outbox:{row.id}")]
