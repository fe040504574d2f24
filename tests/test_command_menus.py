"""The platforms' command menus come from the core's CommandSpecs: Telegram's menu and Discord's
typed ``/townhall`` subcommands are built from them at start; Slack's manifest hint is a file
people paste, checked here against the same specs."""

from __future__ import annotations

import json
import typing
from pathlib import Path
from typing import Any

import discord
from discord import app_commands

from adapters.discord.commands import build_group, parsed
from bot.grammar import CommandSpec, ParsedCommand, command_menu, usage_hint
from handlers import all_specs
from storage.db import Database
from tests.drivers.discord_kit import running_discord

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
    group = build_group(_Sink(), all_specs())
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


#: What Discord shows of each ``/townhall`` subcommand's options (descriptions aside), as it was
#: when they were declared by hand: generating them from the specs must not change it.
REGISTERED = json.loads((ROOT / "tests" / "data" / "discord_commands.json").read_text())
_OPTION_KEYS = ("name", "type", "required", "min_length", "max_length", "min_value", "max_value")


async def test_discord_registers_the_subcommands_generated_from_the_specs(
    db_url: str, db: Database
) -> None:
    async with running_discord(db_url, db) as harness:
        commands = harness.fake.commands[harness.fake.guild.id].values()
        (group,) = [c for c in commands if c["name"] == "townhall"]
    registered = {
        sub["name"]: [
            {
                **{k: o[k] for k in _OPTION_KEYS if k in o},
                **({"choices": o["choices"]} if o.get("choices") else {}),
            }
            for o in sub.get("options", [])
        ]
        for sub in group["options"]
    }
    assert registered == REGISTERED
    described = {sub["name"]: sub["description"] for sub in group["options"]}
    assert described["poll"] == "Publish a poll in this channel (policy team)"
    assert all(1 <= len(text) <= 100 for text in described.values())


def test_discord_values_become_the_commands_typed_text_would() -> None:
    """Each kind of field: split arguments, a switch, a yes/no option, a number, an empty
    optional argument left out; quotes straightened as the grammar does."""
    assert parsed(
        SPECS["poll"], {"question": "Open “Sunday”?", "options": "Yes | No |", "multi": True}
    ) == ParsedCommand("poll", ('Open "Sunday"?', "Yes", "No"), frozenset({"multi"}), {})
    assert parsed(SPECS["ask"], {"question": "Why?", "author_notices": False}).options == {
        "author-notices": "no"
    }
    assert parsed(SPECS["flagged"], {"page": 2}).args == ("2",)
    assert parsed(SPECS["flagged"], {}).args == ()
    assert parsed(SPECS["hide"], {"ref": "A12", "reason": "  "}).args == ("A12",)
    assert parsed(SPECS["hide"], {"ref": "A12", "reason": "abuse"}).args == ("A12", "abuse")
    assert parsed(SPECS["list"], {"status": "open"}).options == {"status": "open"}
