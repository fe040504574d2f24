"""The Discord baseline of bench/ingest.py: a bare discord.py app that only acknowledges.

    python bench/ingest_discord_bare.py   (TOWNHALL_DISCORD_TOKEN, _API_URL, _GATEWAY_URL set)

Connects to the same (fake) gateway as ``townhall run`` with the same discord.py and the same
URL rebasing, and answers every button click with an ephemeral "ok" (type 4, as Townhall answers
a vote): what any discord.py app pays per interaction before doing anything; no database.
Prints ``ready`` once the gateway session is ready.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import discord

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.discord.endpoints import Endpoints


class Bare(discord.Client):
    def __init__(self, endpoints: Endpoints) -> None:
        super().__init__(intents=discord.Intents.none() | discord.Intents(guilds=True))
        self.endpoints = endpoints
        self.http = endpoints.http_client(loop=self.loop)
        self._connection.http = self.http

    async def connect(self, *, reconnect: bool = True) -> None:
        self.endpoints.enter()
        await super().connect(reconnect=reconnect)

    async def on_ready(self) -> None:
        print("ready", flush=True)

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        if interaction.type is discord.InteractionType.component:
            await interaction.response.send_message("ok", ephemeral=True)


async def main() -> None:
    endpoints = Endpoints.from_urls(
        os.environ["TOWNHALL_DISCORD_API_URL"], os.environ["TOWNHALL_DISCORD_GATEWAY_URL"]
    )
    assert endpoints is not None
    client = Bare(endpoints)
    async with client:
        await client.start(os.environ["TOWNHALL_DISCORD_TOKEN"])


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
