"""The ``/townhall`` application command group: typed options → the core grammar."""

from __future__ import annotations

from typing import Any, Literal, Protocol

import discord
from discord import app_commands

from adapters.discord.translate import command_text, split_options

CLOSES = "When it closes: 2d, 6h or 2026-12-01T12:00Z (default: stays open)"
RESULTS = "Show results live while open, or only once it has closed (default: live)"


class CommandSink(Protocol):
    async def command(
        self, interaction: discord.Interaction[Any], text: str, *, publishes: bool = False
    ) -> None: ...


def build_group(sink: CommandSink) -> app_commands.Group:
    """``/townhall poll|scale|ask|close|results|list|help``, each translated into one line of
    the shared grammar and handed to ``sink`` (which dispatches it as a COMMAND event)."""
    group = app_commands.Group(
        name="townhall",
        description="Polls, scales and open questions from the policy team",
        guild_only=True,
    )

    @group.command(name="poll", description="Publish a poll in this channel (policy team)")
    @app_commands.describe(
        question="The question people vote on",
        options="2 to 10 options separated by |, e.g. Yes | No | Not sure",
        multi="Let people choose several options",
        closes=CLOSES,
        results=RESULTS,
    )
    async def poll(
        interaction: discord.Interaction[Any],
        question: app_commands.Range[str, 1, 300],
        options: app_commands.Range[str, 1, 1000],
        multi: bool = False,
        closes: app_commands.Range[str, 1, 40] | None = None,
        results: Literal["live", "closed"] | None = None,
    ) -> None:
        text = command_text(
            "poll",
            [question, *split_options(options)],
            flags=["multi"] if multi else [],
            options={"closes": closes, "results": results},
        )
        await sink.command(interaction, text, publishes=True)

    @group.command(name="scale", description="Publish an agree/disagree scale (policy team)")
    @app_commands.describe(statement="The statement people rate", closes=CLOSES, results=RESULTS)
    async def scale(
        interaction: discord.Interaction[Any],
        statement: app_commands.Range[str, 1, 300],
        closes: app_commands.Range[str, 1, 40] | None = None,
        results: Literal["live", "closed"] | None = None,
    ) -> None:
        text = command_text("scale", [statement], options={"closes": closes, "results": results})
        await sink.command(interaction, text, publishes=True)

    @group.command(name="ask", description="Publish an open question (policy team)")
    @app_commands.describe(question="The question people answer in their own words", closes=CLOSES)
    async def ask(
        interaction: discord.Interaction[Any],
        question: app_commands.Range[str, 1, 300],
        closes: app_commands.Range[str, 1, 40] | None = None,
    ) -> None:
        text = command_text("ask", [question], options={"closes": closes})
        await sink.command(interaction, text, publishes=True)

    @group.command(name="close", description="Close an item now and post its results")
    @app_commands.describe(item="The item's id, e.g. k3m9xq")
    async def close(
        interaction: discord.Interaction[Any], item: app_commands.Range[str, 1, 40]
    ) -> None:
        await sink.command(interaction, command_text("close", [item]))

    @group.command(name="results", description="See an item's results (only you see them)")
    @app_commands.describe(item="The item's id, e.g. k3m9xq")
    async def results_(
        interaction: discord.Interaction[Any], item: app_commands.Range[str, 1, 40]
    ) -> None:
        await sink.command(interaction, command_text("results", [item]))

    @group.command(name="list", description="List recent items (policy team)")
    @app_commands.describe(status="Only open or only closed items")
    async def list_(
        interaction: discord.Interaction[Any], status: Literal["open", "closed"] | None = None
    ) -> None:
        await sink.command(interaction, command_text("list", options={"status": status}))

    @group.command(name="help", description="What Townhall can do")
    async def help_(interaction: discord.Interaction[Any]) -> None:
        await sink.command(interaction, command_text("help"))

    return group
