"""Shared set-up for the Discord adapter tests (no tests here): a guild, Townhall + adapter
running against :mod:`tests.fakes.discord` through the real discord.py, and helpers."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import func, select

from adapters.discord import DiscordAdapter, from_settings
from bot.config import Settings
from bot.context import Clock, utc_now
from handlers import all_specs
from services import results
from storage.db import Database
from storage.items import ItemRepository
from tests.conftest import SECRET
from tests.fakes.discord import (
    FLAG_EPHEMERAL,
    FakeChannel,
    FakeDiscord,
    FakeGuild,
    FakeMember,
    FakeRole,
    FakeUser,
)
from townhall.app import Townhall

Payload = dict[str, Any]

GUILD_ID = 810_000_000_000_000_100
CHANNEL_ID = 810_000_000_000_000_200  # #consultations
OTHER_CHANNEL_ID = 810_000_000_000_000_201  # #announcements
POLICY_ROLE_ID = 810_000_000_000_000_500
POLICY_ROLE = "Policy Team"
OWNER = FakeUser(id=810_000_000_000_000_300, username="owner", global_name="Server Owner")
OFFICER = FakeUser(id=810_000_000_000_000_301, username="olivia", global_name="Olivia")
CAROL = FakeUser(id=810_000_000_000_000_302, username="carol", global_name="Carol")
BOB = FakeUser(id=810_000_000_000_000_303, username="bob", global_name="Bob")
CITIZENS = [
    FakeUser(id=810_000_000_000_001_000 + i, username=f"citizen{i}", global_name=f"Citizen {i}")
    for i in range(30)
]


def town_guild() -> FakeGuild:
    """#consultations and #announcements; Carol holds the Discord policy role."""
    return FakeGuild(
        id=GUILD_ID,
        name="Town",
        channels=[
            FakeChannel(id=CHANNEL_ID, name="consultations"),
            FakeChannel(id=OTHER_CHANNEL_ID, name="announcements", position=1),
        ],
        roles=[FakeRole(id=POLICY_ROLE_ID, name=POLICY_ROLE)],
        members=[
            FakeMember(OWNER),
            FakeMember(OFFICER),
            FakeMember(CAROL, roles=[POLICY_ROLE_ID]),
            FakeMember(BOB),
            *(FakeMember(u) for u in CITIZENS),
        ],
        owner_id=OWNER.id,
    )


def discord_settings(db_url: str, fake: FakeDiscord, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db_url,
        "secret_key": SECRET,
        "policy_team": f"discord:{OFFICER.id}",
        "refresh_interval": 0,
        "env": "test",
        "discord_token": fake.token,
        "discord_api_url": fake.api_base,
        "discord_gateway_url": fake.gateway_url,
        "discord_guild_ids": str(GUILD_ID),
        "discord_policy_role": POLICY_ROLE,
        "_env_file": None,
    }
    values.update(overrides)
    return Settings(**values)


class Harness:
    """Townhall (no HTTP server, no background worker: tests drain the outbox) plus the
    Discord adapter, against one fake and one database; restartable."""

    def __init__(
        self, fake: FakeDiscord, settings: Settings, db: Database, clock: Clock = utc_now
    ) -> None:
        self.fake = fake
        self.clock = clock
        self.settings = settings
        self.db = db
        self.app: Townhall | None = None
        self.adapter: DiscordAdapter | None = None

    async def start(self, **adapter_options: Any) -> Townhall:
        adapter = from_settings(self.settings, all_specs())
        adapter.guild_ready_timeout = 0.05
        for key, value in adapter_options.items():
            setattr(adapter, key, value)
        self.adapter = adapter
        self.app = Townhall(self.settings, [adapter], db=self.db, clock=self.clock)
        await self.app.start(serve_http=False, background=False)
        return self.app

    async def stop(self) -> None:
        if self.app is not None:
            await self.app.stop()
            self.app = None
        await self.fake.wait_until_disconnected()

    async def restart(self) -> Townhall:
        """Stop Townhall and its client; start new ones on the same fake and database."""
        await self.stop()
        self.db = Database(self.settings.database_url)
        return await self.start()

    @property
    def townhall(self) -> Townhall:
        assert self.app is not None
        return self.app

    @property
    def discord(self) -> DiscordAdapter:
        assert self.adapter is not None
        return self.adapter

    async def drain(self) -> None:
        await self.townhall.deliverer.drain()

    # -- driving the fake -----------------------------------------------------------------

    async def deliver(self, payload: Payload, *, times: int = 1, settle: bool = True) -> Payload:
        """Send an INTERACTION_CREATE (``times`` deliveries) and wait until the adapter has
        finished with every delivery."""
        for _ in range(times):
            await self.fake.dispatch("INTERACTION_CREATE", payload)
        if settle:
            await self.discord.settled.wait(payload["id"], count=times)
        return payload

    async def slash(
        self,
        user: FakeUser,
        subcommand: str,
        options: Mapping[str, Any] | None = None,
        *,
        channel_id: int = CHANNEL_ID,
    ) -> Payload:
        payload = self.fake.slash_command(
            GUILD_ID, channel_id, user, "townhall", subcommand, dict(options or {})
        )
        return await self.deliver(payload)

    async def publish(self, subcommand: str, options: Mapping[str, Any]) -> tuple[str, int]:
        """The officer creates an item; returns its short id and the card's message id."""
        payload = await self.slash(OFFICER, subcommand, options)
        match = re.search(r"Published \w+ (\w{6})", self.reply_text(payload))
        assert match, self.reply_text(payload)
        short_id = match.group(1)
        await self.drain()
        return short_id, self.card_message(short_id)

    def card_message(self, short_id: str, channel_id: int = CHANNEL_ID) -> int:
        for message in self.fake.channel_messages(channel_id, include_ephemeral=False):
            embeds = message.get("embeds") or []
            if embeds and short_id in (embeds[0].get("footer") or {}).get("text", ""):
                return int(message["id"])
        raise AssertionError(f"no card for {short_id} in channel {channel_id}")

    async def click(
        self, message_id: int, custom_id: str, user: FakeUser, times: int = 1
    ) -> Payload:
        payload = self.fake.component_click(message_id, custom_id, user)
        return await self.deliver(payload, times=times)

    # -- reading what the bot said ----------------------------------------------------------

    def reply(self, payload: Payload) -> Payload:
        """The interaction's (ephemeral) response message as the fake stores it."""
        record = self.fake.interaction(payload)
        assert record.original_message_id is not None, f"no response to {payload['id']}"
        return self.fake.get_message(record.original_message_id)

    def reply_text(self, payload: Payload) -> str:
        message = self.reply(payload)
        assert message["flags"] & FLAG_EPHEMERAL, "the answer should be ephemeral"
        return str(message["content"])

    async def tally(self, short_id: str) -> dict[str, Any]:
        async with self.townhall.db.transaction() as session:
            item = await ItemRepository(session).by_short_id(short_id)
            assert item is not None
            return (await results.compute(session, item)).to_json()

    async def count(self, model: type) -> int:
        async with self.townhall.db.transaction() as session:
            total = await session.execute(select(func.count()).select_from(model))
            return int(total.scalar_one())


@asynccontextmanager
async def running_discord(
    db_url: str, db: Database, *, strict: bool = True
) -> AsyncIterator[Harness]:
    """A started :class:`Harness` on a fresh fake Discord (the town guild); stopped after, and
    with ``strict`` every call the fake did not understand fails the test."""
    async with FakeDiscord(guilds=[town_guild()], patch_discord_py=False) as fake:
        harness = Harness(fake, discord_settings(db_url, fake), db)
        await harness.start()
        try:
            yield harness
        finally:
            await harness.stop()
        if strict:
            fake.assert_no_unhandled()


def embed_of(message: Payload) -> Payload:
    embeds = message.get("embeds") or []
    assert embeds, f"message {message['id']} has no embed"
    return dict(embeds[0])


def bar_counts(message: Payload) -> dict[str, int]:
    """Votes per option as shown in a card's Results field (``label (N)`` per line)."""
    fields = [f for f in embed_of(message).get("fields", []) if f["name"] in ("Results", "\u200b")]
    counts: dict[str, int] = {}
    for field in fields:
        for line in field["value"].splitlines():
            match = re.search(r"%\s+(.+) \((\d+)\)$", line)
            assert match, line
            counts[match.group(1)] = int(match.group(2))
    return counts


def button_ids(message: Payload) -> list[str]:
    return [c["custom_id"] for row in message.get("components") or [] for c in row["components"]]
