"""The Discord path of bench/ingest.py: clicks arrive over a (fake) gateway, not over HTTP.

``townhall run`` connects discord.py to the fake Discord of the test suite
(tests/fakes/discord.py: REST API + websocket gateway) running in the bench process. The poll is
published by the policy officer's ``/townhall poll`` slash command; then ``concurrency``
clickers each dispatch an ``INTERACTION_CREATE`` button click from a new person and wait for
Townhall's interaction callback (the acknowledgement), then click again, until the time is up.
A callback of type 5 (deferred: Townhall took longer than 1.5 s and said "thinking" first) is
acknowledged before the vote committed; the run reports those as status 1005.
The fake is a validating test fake, not a fast one: its own cost is paid in the bench process.
Its baseline (path ``bare``): a bare discord.py app that only acknowledges, on the same fake
(bench/ingest_discord_bare.py).
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import ingest_load

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests package

from tests.drivers.discord_kit import CHANNEL_ID, GUILD_ID, OFFICER, town_guild
from tests.fakes.discord import FakeDiscord, FakeUser


@asynccontextmanager
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(guilds=[town_guild()], patch_discord_py=False) as fake:
        yield fake


def env(fake: FakeDiscord) -> dict[str, str]:
    return {
        "TOWNHALL_DISCORD_TOKEN": fake.token,
        "TOWNHALL_DISCORD_API_URL": fake.api_base,
        "TOWNHALL_DISCORD_GATEWAY_URL": fake.gateway_url,
        "TOWNHALL_POLICY_TEAM": f"discord:{OFFICER.id}",
    }


WAIT = 30.0


async def answered(fake: FakeDiscord, payload: dict[str, Any]) -> Any:
    """The interaction's record once Townhall called back (type 4: answered; 5: deferred)."""
    await fake.dispatch("INTERACTION_CREATE", payload, timeout=WAIT)
    return await fake.wait_for(
        lambda: fake.interaction(payload) if fake.interaction(payload).responded else None,
        timeout=WAIT,
        what="an interaction callback",
    )


async def publish(fake: FakeDiscord) -> tuple[str, int]:
    """``/townhall poll`` as the officer; (short id, card message id) once the card is posted."""
    await fake.wait_until_ready(timeout=60)
    await fake.wait_for(lambda: fake.commands.get(None) or None, timeout=60, what="command sync")
    poll = fake.slash_command(
        GUILD_ID,
        CHANNEL_ID,
        OFFICER,
        "townhall",
        "poll",
        {"question": "Build a library on the park site?", "options": "Yes | No | Not sure"},
    )
    record = await answered(fake, poll)
    short_id = str(fake.get_message(record.original_message_id)["content"]).split()[2].rstrip(".")

    def card() -> int | None:
        for message in fake.channel_messages(CHANNEL_ID, include_ephemeral=False):
            footer = ((message.get("embeds") or [{}])[0].get("footer") or {}).get("text", "")
            if short_id in footer:
                return int(message["id"])
        return None

    return short_id, await fake.wait_for(card, timeout=60, what="the poll card")


async def run(
    fake: FakeDiscord,
    short_id: str,
    card: int,
    *,
    concurrency: int,
    seconds: float,
    counter: ingest_load.Counter,
) -> ingest_load.LoadResult:
    result = ingest_load.LoadResult()
    deadline = time.perf_counter() + seconds

    async def clicker() -> None:
        while time.perf_counter() < deadline:
            n = counter.take()
            user = FakeUser(id=820_000_000_000_000_000 + n, username=f"voter{n}")
            click = fake.component_click(card, f"vote:{short_id}:{1 + n % 3}", user)
            result.sent += 1
            started = time.perf_counter()
            try:
                record = await answered(fake, click)
            except Exception:
                result.failed += 1
                continue
            result.acked += 1  # Discord stops showing "thinking…" / "interaction failed"
            kind = 200 if record.response_type == 4 else 1000 + int(record.response_type)
            result.statuses[kind] = result.statuses.get(kind, 0) + 1
            result.latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(clicker() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - started
    return result
