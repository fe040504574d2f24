"""429, 5xx and slow-answer storms from the Slack Web API: every card arrives once the storm
ends, none twice (real slack_sdk against the fake Slack)."""

from __future__ import annotations

import aiohttp
import pytest
from sqlalchemy import select

from storage.models import OutboxMessage
from tests.drivers.slack_kit import (  # noqa: F401 - slack is a fixture
    CHANNEL,
    POLL,
    Slack,
    slack_fixture,
)
from tests.test_slack_adapter import publish_without_card

pytestmark = pytest.mark.timeout(60)


def cards(s: Slack) -> list[str]:
    return [
        m["ts"]
        for m in s.fake.messages.get(CHANNEL, {}).values()
        if "library" in str(m.get("blocks")) and "vote:" in str(m.get("blocks"))
    ]


async def statuses(s: Slack) -> list[str]:
    async with s.app.db.transaction() as session:
        query = select(OutboxMessage.status).where(OutboxMessage.publication_id.is_not(None))
        return list((await session.execute(query)).scalars())


async def ride_out(s: Slack, passes: int = 20) -> None:
    for _ in range(passes):
        await s.app.deliverer.drain(within=30)
        s.clock.advance(minutes=5)
    await s.app.deliverer.drain(within=30)


@pytest.mark.parametrize("storm", ["ratelimit", "server_error"])
async def test_a_storm_delays_the_card_and_it_arrives_once(
    slack: Slack,
    storm: str,
) -> None:
    if storm == "ratelimit":
        slack.fake.rate_limit_next("chat.postMessage", retry_after=30, count=8)
    else:
        slack.fake.fail_next("chat.postMessage", "internal_error", count=8, status=500)
    await publish_without_card(slack, POLL)
    assert cards(slack) == []
    await ride_out(slack)
    assert len(cards(slack)) == 1
    assert await statuses(slack) == ["sent"]


async def test_a_slow_post_is_found_by_its_metadata_not_posted_again(
    slack: Slack,
) -> None:
    """chat.postMessage takes effect but answers after our timeout: the adapter finds the
    message by the outbox key in its metadata, so the card is there once and marked sent."""
    shared = slack.adapter.web.session
    impatient = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=0.5))
    slack.adapter.web.session = impatient
    slack.fake.slow_next("chat.postMessage", 1.5)
    try:
        await publish_without_card(slack, POLL)
        await ride_out(slack, passes=3)
    finally:
        slack.adapter.web.session = shared
        await impatient.close()
    [ts] = cards(slack)
    assert await statuses(slack) == ["sent"]
    assert len(slack.fake.calls_to("chat.postMessage")) == 1
    assert slack.fake.calls_to("conversations.history")
    async with slack.app.db.transaction() as session:
        from storage.models import Publication

        [pub] = (await session.execute(select(Publication))).scalars()
    assert pub.message_id == ts  # live results will edit the right message
