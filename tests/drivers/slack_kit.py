"""The Slack harness (no tests here): Townhall with the Slack adapter behind the real
slack-bolt over HTTP, a fake Slack Web API and a signed-request client."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select

from adapters.slack import SlackAdapter, from_settings
from bot.config import Settings
from services import results
from storage.db import Database
from storage.items import ItemRepository
from tests.fakes.slack import FakeSlack, SlackEventsClient, SlackHttpResult
from tests.support import FakeClock
from townhall.app import Townhall

SIGNING_SECRET = "slack-signing-secret-for-tests-0123"
OFFICER = "U0OFFICER"
CHANNEL = "C0CONSULT"
POLL = 'poll "Should the library open on Sundays?" "Yes" "No" "Only in winter"'
ASK = 'ask "What would make the high street better?"'


@dataclass
class Slack:
    """One running Townhall with the Slack adapter, a fake Slack and a signed-request client."""

    app: Townhall
    adapter: SlackAdapter
    fake: FakeSlack
    client: SlackEventsClient
    clock: FakeClock

    async def command(self, user: str, text: str, **send: Any) -> SlackHttpResult:
        return await self.client.slash_command(user, CHANNEL, text, **send)

    async def publish(self, text: str) -> tuple[str, dict[str, Any]]:
        """An officer's command; returns the item id and the card as Slack stores it."""
        since = len(self.fake.responses)
        result = await self.command(OFFICER, text)
        assert result.status == 200, result.body
        body = result.json()
        assert body["response_type"] == "ephemeral"
        said = [body["text"]]
        if "Published" not in body["text"]:  # a slow commit: acknowledged first, then followed up
            await self.adapter.settle()
            said += [r.text or "" for r in self.fake.responses[since:]]
        match = re.search(r"Published \w+ (\w{6})", "\n".join(said))
        assert match, said
        await self.app.deliverer.drain()
        post = self.fake.calls_to("chat.postMessage", ok=True)[-1]
        return match.group(1), self.fake.message(post.response["channel"], post.response["ts"])

    async def results(self, short_id: str) -> dict[str, Any]:
        async with self.app.db.transaction() as session:
            item = await ItemRepository(session).by_short_id(short_id)
            assert item is not None
            return (await results.compute(session, item)).to_json()

    async def count(self, model: type) -> int:
        async with self.app.db.transaction() as session:
            query = select(func.count()).select_from(model)
            return int((await session.execute(query)).scalar_one())


def slack_settings(db_url: str, fake: FakeSlack, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db_url,
        "secret_key": "test-secret-key-not-for-production",
        "policy_team": f"slack:{OFFICER}",
        "refresh_interval": 0,
        "env": "test",
        "http_port": 0,
        "slack_bot_token": fake.bot_token,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": fake.api_url,
        "slack_app_token": None,
        **overrides,
    }
    return Settings(**values, _env_file=None)


H = TypeVar("H", bound=Slack)


@asynccontextmanager
async def running_slack(
    db_url: str, db: Database, clock: FakeClock, harness: type[H], **overrides: Any
) -> AsyncIterator[H]:
    """The one Slack set-up: Townhall serving ``/slack/events`` over HTTP with the Slack
    adapter, a fake Slack, and a signed-request client; ``harness`` wraps them for the test."""
    async with FakeSlack() as fake:
        settings = slack_settings(db_url, fake, **overrides)
        adapter = from_settings(settings)
        app = Townhall(settings, [adapter], db=db, clock=clock)
        await app.start(serve_http=True, background=False)
        try:
            url = f"http://127.0.0.1:{app.http_port}"
            async with SlackEventsClient(url, SIGNING_SECRET, fake=fake) as client:
                yield harness(app, adapter, fake, client, clock)
                await adapter.settle()
        finally:
            await app.stop()


@pytest.fixture(name="slack")
async def slack_fixture(db_url: str, db: Database, clock: FakeClock) -> AsyncIterator[Slack]:
    async with running_slack(db_url, db, clock, Slack) as slack:
        yield slack


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [el for b in message["blocks"] if b["type"] == "actions" for el in b["elements"]]


def bar_votes(message: dict[str, Any]) -> dict[str, int]:
    """Votes per option as the card shows them (``... Yes (12)`` lines)."""
    (section,) = [b for b in message["blocks"] if b.get("block_id") == "th_results"]
    lines = section["text"]["text"].splitlines()
    return {
        m.group(1): int(m.group(2))
        for m in (re.search(r"%\s+(.+) \((\d+)\)$", ln) for ln in lines)
        if m
    }


def texts(ephemerals: list[dict[str, Any]]) -> list[str]:
    return [e["text"] for e in ephemerals]
