"""The platforms' command menus come from the core's CommandSpecs: Telegram's menu is built
from them at start; Slack's manifest hint and Discord's typed ``/townhall`` options are written
for their platform, and checked here against the same specs."""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

import discord
from discord import app_commands

from adapters.discord.commands import build_group
from bot.grammar import CommandSpec, ParsedCommand, command_menu, usage_hint
from handlers import all_specs

ROOT = Path(__file__).resolve().parent.parent
SPECS = {spec.name: spec for spec in all_specs()}


def test_every_command_has_a_menu_line_telegram_accepts() -> None:
    menu = command_menu(all_specs())
    assert [name for name, _ in menu] == list(SPECS)
    for name, text in menu:
        assert name.isascii() and name.islower() and 1 <= len(name) <= 32  # Telegram's rules
        assert 3 <= len(text) <= 60, (name, text)  # Telegram allows 256; phones show ~60


def test_the_slack_manifest_hint_is_made_from_the_specs() -> None:
    manifest = (ROOT / "adapters" / "slack" / "manifest.yml").read_text()
    (line,) = [ln for ln in manifest.splitlines() if ln.strip().startswith("usage_hint:")]
    assert line.split(":", 1)[1].strip() == f"'{usage_hint(all_specs())}'"


class _Sink:
    def __init__(self) -> None:
        self.sent: list[ParsedCommand] = []

    async def command(
        self, interaction: Any, command: ParsedCommand, *, publishes: bool = False
    ) -> None:
        self.sent.append(command)

    async def report(self, interaction: Any, message: discord.Message) -> None:
        raise AssertionError("not a subcommand")


def _allowed(param: app_commands.Parameter) -> set[str]:
    if param.choices:
        return {str(c.value) for c in param.choices}
    literal = param.annotation if typing.get_origin(param.annotation) is typing.Literal else None
    return {str(v) for v in typing.get_args(literal)} if literal else set()


def test_discord_subcommands_match_the_specs() -> None:
    """Same names, options the spec knows with the values it allows, as many arguments."""
    group = build_group(_Sink())
    commands = {c.name: c for c in group.commands if isinstance(c, app_commands.Command)}
    assert set(commands) == set(SPECS) - {"start"}  # Discord has no "start" message
    for name, command in commands.items():
        spec: CommandSpec = SPECS[name]
        positional = 0
        for param in command.parameters:
            key = param.name.replace("_", "-")
            if key in spec.flags:
                assert param.type is discord.AppCommandOptionType.boolean, (name, key)
            elif key in spec.options:
                values = spec.options[key]
                if values and param.type is not discord.AppCommandOptionType.boolean:
                    assert _allowed(param) == set(values), (name, key)
            else:
                positional += 1
        assert positional >= spec.min_args, name
        if spec.max_args is not None:
            assert positional <= spec.max_args, name
