"""The ``/townhall`` application command group and the "Report to moderators" message context
menu.

The subcommands are generated from the core's ``CommandSpec``s: one per spec offered as a slash
command (``spec.slash``), described by its menu line, its options made from ``spec.fields``
(text, whole numbers, yes/no switches, choices from the spec's allowed values). Their values
become the core's parsed command (no quoting, no re-parsing), so a new spec appears on Discord
with no edit here. Discord allows 25 subcommands per group; ``/townhall`` has 16. Context menus
are top-level commands (at most 5 message menus per app), so the report gesture is one of its
own.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Protocol

import discord
from discord import app_commands

from adapters.discord.translate import command, split_options
from bot.grammar import CommandSpec, Field, ParsedCommand
from bot.views import clip

#: The message context menu's name (what members see under Apps when they right-click).
REPORT_MENU = "Report to moderators"
GROUP = "townhall"
GROUP_DESCRIPTION = "Polls, scales and open questions from the policy team"
#: Discord's longest command and option description.
DESCRIPTION_CHARS = 100


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


def build_group(sink: CommandSink, specs: Sequence[CommandSpec]) -> app_commands.Group:
    """``/townhall <command>`` for every spec offered as a slash command, each translated into
    the shared grammar's parsed form and handed to ``sink`` (which dispatches it as a COMMAND
    event; who may do what is the core's decision)."""
    group = app_commands.Group(name=GROUP, description=GROUP_DESCRIPTION, guild_only=True)
    for spec in specs:
        if spec.slash:
            group.add_command(subcommand(spec, sink))
    return group


def _key(field: Field) -> str:
    """The option's name on Discord (``author-notices`` → ``author_notices``)."""
    return field.name.replace("-", "_")


def _annotation(spec: CommandSpec, field: Field) -> Any:
    """The discord.py annotation that makes the option's type, limits and choices."""
    if field.fills == "flag" or field.kind == "yes/no":
        return bool
    if field.kind == "number":
        return app_commands.Range[int, 1, field.limit]
    allowed = spec.options.get(field.name, ()) if field.fills == "option" else ()
    if allowed:
        return Literal[allowed]
    return app_commands.Range[str, 1, field.limit]


def _parameter(spec: CommandSpec, field: Field) -> inspect.Parameter:
    annotation = _annotation(spec, field)
    if field.required:
        default: Any = inspect.Parameter.empty
    elif field.fills == "flag":
        default = False
    else:
        annotation, default = typing.Optional[annotation], None  # noqa: UP045 - a runtime object
    return inspect.Parameter(
        _key(field), inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default, annotation=annotation
    )


def parsed(spec: CommandSpec, values: Mapping[str, Any]) -> ParsedCommand:
    """A subcommand's typed values → the core's parsed command (empty optional ones left out)."""
    args: list[str] = []
    flags: list[str] = []
    options: dict[str, str | None] = {}
    for field in spec.fields:
        value = values.get(_key(field))
        if field.fills == "flag":
            if value:
                flags.append(field.name)
        elif field.fills == "option":
            if field.kind == "yes/no" and value is not None:
                value = "yes" if value else "no"
            options[field.name] = value
        elif field.fills == "args":
            args.extend(split_options(value or ""))
        elif value is not None and (field.required or str(value).strip()):
            args.append(str(value))
    return command(spec.name, args, flags=flags, options=options)


def subcommand(spec: CommandSpec, sink: CommandSink) -> app_commands.Command[Any, Any, None]:
    """``/townhall <spec.name>`` with one option per field of the spec."""

    async def callback(interaction: discord.Interaction[Any], /, **values: Any) -> None:
        await sink.command(interaction, parsed(spec, values), publishes=spec.publishes)

    fields = sorted(spec.fields, key=lambda f: not f.required)  # Discord asks required first
    interaction = inspect.Parameter(
        "interaction",
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        annotation=discord.Interaction[Any],
    )
    callback.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [interaction, *(_parameter(spec, f) for f in fields)]
    )
    described = app_commands.describe(
        **{_key(f): clip(f.description, DESCRIPTION_CHARS) for f in fields}
    )(callback)
    return app_commands.Command(
        name=spec.name,
        description=clip(spec.slash_help or spec.menu or spec.summary, DESCRIPTION_CHARS),
        callback=described,
    )


def build_report_menu(sink: CommandSink) -> app_commands.ContextMenu:
    """Right-click a message → Apps → "Report to moderators" (servers only)."""

    async def report_message(
        interaction: discord.Interaction[Any], message: discord.Message
    ) -> None:
        await sink.report(interaction, message)

    return app_commands.guild_only(
        app_commands.ContextMenu(name=REPORT_MENU, callback=report_message)
    )
