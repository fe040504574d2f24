"""The ``/townhall`` application command group (typed options → the core's parsed commands) and the
"Report to moderators" message context menu.

Discord allows 25 subcommands per group; ``/townhall`` has 16. Context menus are top-level
commands (at most 5 message menus per app), so the report gesture is one of its own.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

import discord
from discord import app_commands

from adapters.discord.translate import command, split_options
from bot.grammar import DECISIONS, ParsedCommand

#: The message context menu's name (what members see under Apps when they right-click).
REPORT_MENU = "Report to moderators"
CLOSES = "When it closes: 2d, 6h or 2026-12-01T12:00Z (default: stays open)"
RESULTS = "Show results live while open, or only once it has closed (default: live)"
MODERATION = (
    "strict (default): hold flagged answers for a moderator; lazy: show them and queue them"
)
AUTHOR_NOTICES = "Tell authors privately when a moderator hides their answer (default: yes)"
REF = "The answer's reference, e.g. A12"
DECISION_HELP = {
    "approve": "Moderators: publish a held or reported answer",
    "hide": "Moderators: hide an answer (its author is told privately)",
    "redact": "Moderators: remove the personal data from an answer and publish the rest",
    "escalate": "Moderators: pass an answer to the policy team",
}


class CommandSink(Protocol):
    async def command(
        self,
        interaction: discord.Interaction[Any],
        command: ParsedCommand,
        *,
        publishes: bool = False,
    ) -> None: ...

    async def report(
        self, interaction: discord.Interaction[Any], message: discord.Message
    ) -> None: ...


def build_group(sink: CommandSink) -> app_commands.Group:
    """``/townhall poll|scale|ask|close|results|list|help``, the moderators' ``flagged`` and
    ``approve|hide|redact|escalate``, and everyone's ``report|privacy|mydata|forget``: each
    translated into the shared grammar's parsed form and handed to ``sink`` (which dispatches
    it as a COMMAND event; who may do what is the core's decision)."""
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
        parsed = command(
            "poll",
            [question, *split_options(options)],
            flags=["multi"] if multi else [],
            options={"closes": closes, "results": results},
        )
        await sink.command(interaction, parsed, publishes=True)

    @group.command(name="scale", description="Publish an agree/disagree scale (policy team)")
    @app_commands.describe(statement="The statement people rate", closes=CLOSES, results=RESULTS)
    async def scale(
        interaction: discord.Interaction[Any],
        statement: app_commands.Range[str, 1, 300],
        closes: app_commands.Range[str, 1, 40] | None = None,
        results: Literal["live", "closed"] | None = None,
    ) -> None:
        parsed = command("scale", [statement], options={"closes": closes, "results": results})
        await sink.command(interaction, parsed, publishes=True)

    @group.command(name="ask", description="Publish an open question (policy team)")
    @app_commands.describe(
        question="The question people answer in their own words",
        closes=CLOSES,
        moderation=MODERATION,
        author_notices=AUTHOR_NOTICES,
    )
    async def ask(
        interaction: discord.Interaction[Any],
        question: app_commands.Range[str, 1, 300],
        closes: app_commands.Range[str, 1, 40] | None = None,
        moderation: Literal["strict", "lazy"] | None = None,
        author_notices: bool | None = None,
    ) -> None:
        notices = None if author_notices is None else ("yes" if author_notices else "no")
        parsed = command(
            "ask",
            [question],
            options={"closes": closes, "moderation": moderation, "author-notices": notices},
        )
        await sink.command(interaction, parsed, publishes=True)

    def on_an_item(name: str, description: str) -> None:
        """A subcommand whose one argument is an item's id."""

        @group.command(name=name, description=description)
        @app_commands.describe(item="The item's id, e.g. k3m9xq")
        async def subcommand(
            interaction: discord.Interaction[Any], item: app_commands.Range[str, 1, 40]
        ) -> None:
            await sink.command(interaction, command(name, [item]))

    on_an_item("close", "Close an item (or a consultation) now and post its results")
    on_an_item("results", "See an item's or a consultation's results (only you see them)")

    @group.command(name="list", description="List recent items (policy team)")
    @app_commands.describe(status="Only open or only closed items")
    async def list_(
        interaction: discord.Interaction[Any], status: Literal["open", "closed"] | None = None
    ) -> None:
        await sink.command(interaction, command("list", options={"status": status}))

    @group.command(name="help", description="What Townhall can do")
    async def help_(interaction: discord.Interaction[Any]) -> None:
        await sink.command(interaction, command("help"))

    _add_moderation(group, sink)
    _add_privacy(group, sink)
    _add_consultations(group, sink)
    return group


def _add_consultations(group: app_commands.Group, sink: CommandSink) -> None:
    @group.command(name="publish", description="Publish a consultation here (policy team)")
    @app_commands.describe(slug="The consultation's name, e.g. dental-bill")
    async def publish(
        interaction: discord.Interaction[Any], slug: app_commands.Range[str, 1, 100]
    ) -> None:
        await sink.command(interaction, command("publish", [slug]), publishes=True)

    @group.command(name="respond", description="Send participants what was decided (policy team)")
    @app_commands.describe(slug="The consultation's name", text="What was decided")
    async def respond(
        interaction: discord.Interaction[Any],
        slug: app_commands.Range[str, 1, 100],
        text: app_commands.Range[str, 1, 4000],
    ) -> None:
        await sink.command(interaction, command("respond", [slug, text]))

    @group.command(name="subscribe", description="Hear about consultations on a topic")
    @app_commands.describe(topic="A topic, e.g. health")
    async def subscribe(
        interaction: discord.Interaction[Any], topic: app_commands.Range[str, 1, 60]
    ) -> None:
        await sink.command(interaction, command("subscribe", [topic]))

    @group.command(name="unsubscribe", description="Stop hearing about a topic, or everything")
    @app_commands.describe(topic="A topic; leave it out to stop everything")
    async def unsubscribe(
        interaction: discord.Interaction[Any], topic: app_commands.Range[str, 1, 60] | None = None
    ) -> None:
        await sink.command(interaction, command("unsubscribe", [topic] if topic else []))

    def without_options(name: str, description: str) -> None:
        @group.command(name=name, description=description)
        async def subcommand(interaction: discord.Interaction[Any]) -> None:
            await sink.command(interaction, command(name))

    without_options("topics", "Your subscriptions and open topics")
    without_options("stop", "Stop consultation messages")


def _add_moderation(group: app_commands.Group, sink: CommandSink) -> None:
    """``flagged [page]``, ``report ref`` and one subcommand per decision (``approve ref
    [reason]`` ...), mirroring the shared grammar word for word."""

    @group.command(name="flagged", description="Moderators: answers waiting for a decision")
    @app_commands.describe(page="Which page of the queue (5 answers a page, oldest first)")
    async def flagged(
        interaction: discord.Interaction[Any],
        page: app_commands.Range[int, 1, 10_000] | None = None,
    ) -> None:
        args = [] if page is None else [str(page)]
        await sink.command(interaction, command("flagged", args))

    @group.command(name="report", description="Report an answer to the moderators")
    @app_commands.describe(ref=REF)
    async def report(
        interaction: discord.Interaction[Any], ref: app_commands.Range[str, 1, 40]
    ) -> None:
        await sink.command(interaction, command("report", [ref]))

    for decision in DECISIONS:
        group.add_command(_decision_command(decision, sink))


def _decision_command(decision: str, sink: CommandSink) -> app_commands.Command[Any, Any, None]:
    @app_commands.command(name=decision, description=DECISION_HELP[decision])
    @app_commands.describe(ref=REF, reason="Why (kept in the audit log)")
    async def decide(
        interaction: discord.Interaction[Any],
        ref: app_commands.Range[str, 1, 40],
        reason: app_commands.Range[str, 1, 300] | None = None,
    ) -> None:
        args = [ref, reason] if reason and reason.strip() else [ref]
        await sink.command(interaction, command(decision, args))

    return decide


def _add_privacy(group: app_commands.Group, sink: CommandSink) -> None:
    @group.command(name="privacy", description="How your answers are used; give your consent")
    async def privacy(interaction: discord.Interaction[Any]) -> None:
        await sink.command(interaction, command("privacy"))

    @group.command(name="mydata", description="A private copy of what Townhall holds about you")
    async def mydata(interaction: discord.Interaction[Any]) -> None:
        await sink.command(interaction, command("mydata"))

    @group.command(name="forget", description="Erase your votes, answers and identity")
    async def forget(interaction: discord.Interaction[Any]) -> None:
        await sink.command(interaction, command("forget"))


def build_report_menu(sink: CommandSink) -> app_commands.ContextMenu:
    """Right-click a message → Apps → "Report to moderators" (servers only)."""

    async def report_message(
        interaction: discord.Interaction[Any], message: discord.Message
    ) -> None:
        await sink.report(interaction, message)

    return app_commands.guild_only(
        app_commands.ContextMenu(name=REPORT_MENU, callback=report_message)
    )
