"""Malformed platform requests are refused (4xx) or acknowledged and ignored, never a 500."""

from __future__ import annotations

import logging
import time

import aiohttp
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from storage.db import Database
from storage.models import ProcessedEvent
from tests.drivers.slack_kit import SIGNING_SECRET, Slack, slack_fixture  # noqa: F401 - fixture
from tests.drivers.telegram_kit import (  # noqa: F401 - fake_telegram is a fixture
    OFFICER_ID,
    count_rows,
    fake_telegram,
    running,
)
from tests.fakes.slack import sign_request
from tests.fakes.telegram import FakeTelegram
from tests.fuzz import SECRET_WORDS, watched_log
from tests.support import FakeClock

pytestmark = pytest.mark.timeout(60)


async def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as r:
        return r.status


async def test_slack_refuses_odd_timestamps_and_bodies_before_bolt_sees_them(
    slack: Slack,
) -> None:
    url = slack.client.url
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for ts in ["abc", "²", "1e9", "", "99999999999999999999999"]:
        headers = {**form, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=00"}
        assert await post(url, b"command=/townhall&text=help", headers) == 401, ts
    ts = str(int(time.time()))
    for body in [b"\xff\xfe{", b"payload=%7Bnot+json", b"payload=%5B1%5D"]:
        signed = {
            **form,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": sign_request(SIGNING_SECRET, ts, body),
        }
        assert await post(url, body, signed) == 400, body
    assert slack.fake.calls == []  # nothing reached the core


async def test_telegram_updates_of_the_wrong_shape_are_dropped_whole(
    fake: FakeTelegram, db: Database, clock: FakeClock
) -> None:
    group = fake.group(-1001000000077, "Forum", forum=True)
    citizen = fake.user(5077, "Zoe")
    async with running(fake, db, clock, webhook=True) as h:
        update = fake.text_update(group, citizen, "/privacy")
        update["message"]["is_topic_message"] = True
        update["message"]["message_thread_id"] = "not a number"
        assert await h.deliver(update) == 200  # acknowledged, so Telegram does not resend it
        assert await count_rows(db, ProcessedEvent) == 0  # and nothing half-stored
        assert fake.calls_to("sendMessage") == []

        odd = fake.text_update(group, citizen, "/privacy")
        odd["update_id"] = True
        assert await h.deliver(odd) == 400
        assert await count_rows(db, ProcessedEvent) == 0


async def test_forged_slack_requests_leave_no_body_in_the_log(slack: Slack) -> None:
    body = f"command=/townhall&user_id=U0ZELDA7319&text={SECRET_WORDS}".encode()
    with watched_log() as log:
        status = await post(
            slack.client.url,
            body,
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": str(int(time.time())),
                "X-Slack-Signature": "v0=" + "0" * 64,
            },
        )
        # and should bolt ever log a bad signature itself, only the first words remain
        logging.getLogger("slack_bolt.AsyncRequestVerification").warning(
            "Invalid request signature detected (signature: x, timestamp: 1, body: %s)", body
        )
    assert status == 401
    assert "bad or missing signature" in log.getvalue()
    assert SECRET_WORDS not in log.getvalue() and "U0ZELDA7319" not in log.getvalue()


async def test_database_errors_do_not_show_the_values(db: Database) -> None:
    with pytest.raises(DBAPIError) as caught:
        async with db.transaction() as session:
            await session.execute(
                text("INSERT INTO processed_events (platform, event_id) VALUES (:p, :e)"),
                {"p": "telegram", "e": SECRET_WORDS},  # processed_at is missing: refused
            )
    assert SECRET_WORDS not in str(caught.value)
