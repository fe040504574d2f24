"""Is this gateway JSON shaped like a Discord interaction, in the fields discord.py reads?

discord.py parses an INTERACTION_CREATE and then hands it to tasks of its own (the command
tree, the view store) that assume Discord's types: ``"options": null`` or a ``data`` that is a
string ends in a traceback inside discord.py, out of our reach. Checked here first, an
interaction of the wrong shape is ignored (logged by its path, never its content).
"""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.shapes import Shape, Spec

ID_LIMIT = 2**64
_SNOWFLAKE = re.compile(r"[0-9]{1,20}")


class Snowflake:
    """A Discord id: a decimal string (or an integer) below 2**64."""


USER: Spec = {
    "id": Snowflake,
    "username": str,
    "global_name": str,
    "discriminator": str,
    "bot": bool,
}
MEMBER: Spec = {"user": USER, "roles": [Snowflake], "nick": str, "permissions": str}
OPTION: Spec = {"name": str, "type": int, "focused": bool}
OPTION["options"] = [OPTION]
COMPONENT: Spec = {"type": int, "custom_id": str, "value": str, "values": [str]}
COMPONENT["components"] = [COMPONENT]
COMPONENT["component"] = COMPONENT
DATA: Spec = {
    "id": Snowflake,
    "name": str,
    "type": int,
    "guild_id": Snowflake,
    "target_id": Snowflake,
    "custom_id": str,
    "component_type": int,
    "values": [str],
    "options": [OPTION],
    "components": [COMPONENT],
    "resolved": dict,
}
MESSAGE: Spec = {
    "id": Snowflake,
    "channel_id": Snowflake,
    "content": str,
    "author": USER,
    "embeds": [dict],
    "components": [COMPONENT],
    "flags": int,
}
INTERACTION: Spec = {
    "id": Snowflake,
    "application_id": Snowflake,
    "type": int,
    "token": str,
    "version": int,
    "guild_id": Snowflake,
    "channel_id": Snowflake,
    "channel": dict,
    "member": MEMBER,
    "user": USER,
    "data": DATA,
    "message": MESSAGE,
    "locale": str,
    "guild_locale": str,
    "app_permissions": str,
}
#: Fields Discord itself sends as null; any other null would reach discord.py as a wrong type.
NULLABLE = frozenset(
    {
        "global_name",
        "nick",
        "avatar",
        "banner",
        "guild_id",
        "member",
        "user",
        "message",
        "channel",
        "locale",
        "guild_locale",
        "discriminator",
        "resolved",
    }
)
REQUIRED: dict[int, tuple[str, ...]] = {
    id(INTERACTION): ("id", "application_id", "type", "token"),
    id(USER): ("id", "username"),
    id(MEMBER): ("user",),
    id(OPTION): ("name", "type"),
    id(COMPONENT): ("type",),
    id(MESSAGE): ("id", "channel_id"),
}
#: What each interaction type needs in ``data`` (1 ping, 2 command, 3 component, 4 autocomplete,
#: 5 modal submit).
DATA_NEEDS: dict[int, tuple[str, ...]] = {
    2: ("id", "name", "type"),
    3: ("custom_id", "component_type"),
    4: ("id", "name", "type"),
    5: ("custom_id", "components"),
}

#: A command's ``data.type`` (chat input, user, message ...): discord.py's command tree turns it
#: into its enum outside any handler, so an unknown one would end in a traceback.
COMMAND_TYPES = frozenset(t.value for t in discord.AppCommandType)


def _snowflake(value: object) -> bool:
    return (type(value) is int and 0 <= value < ID_LIMIT) or (
        type(value) is str and _SNOWFLAKE.fullmatch(value) is not None
    )


def _option_value(spec: Spec, value: dict[str, Any], where: str) -> str | None:
    """An option that is not a (sub)command carries a value discord.py can convert."""
    leaf = spec is OPTION and value.get("type") not in (1, 2)
    if leaf and type(value.get("value")) not in (str, int, float, bool):
        return f"{where}.value: missing"
    return None


SHAPE = Shape(
    required=REQUIRED,
    int_limit=ID_LIMIT,
    nullable=NULLABLE.__contains__,
    leaves={Snowflake: _snowflake},
    rule=_option_value,
)


def problem(interaction: object) -> str | None:
    """Where the interaction is not what Discord sends (a path, no content), or None."""
    found = SHAPE.problem(interaction, INTERACTION, "interaction")
    if found or not isinstance(interaction, dict):
        return found
    kind = interaction["type"]
    if kind not in (1, *DATA_NEEDS):
        return "interaction.type: unknown"
    if kind == 1:
        return None
    data = interaction.get("data")
    if not isinstance(data, dict):
        return "interaction.data: missing"
    for key in DATA_NEEDS[kind]:
        if data.get(key) is None:
            return f"interaction.data.{key}: missing"
    if kind in (2, 4) and data["type"] not in COMMAND_TYPES:
        return "interaction.data.type: unknown"
    # A click comes from the message holding the button, components and all: discord.py reads
    # them to rebuild the view, and a message without them ends in a traceback.
    message = interaction.get("message")
    if kind == 3 and not (
        isinstance(message, dict) and isinstance(message.get("components"), list)
    ):
        return "interaction.message.components: missing"
    if interaction.get("member") is None and interaction.get("user") is None:
        return "interaction: neither member nor user"
    return None
