"""Discord payloads → core events: parsed commands, actors, targets, modal answers, replies."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import discord

from bot.events import Actor, Event, EventKind, Target
from bot.grammar import ParsedCommand, plain_quotes

PLATFORM = "discord"

#: Modal custom ids are ``answer:<short id>`` (the Answer button's own custom id).
ANSWER_ACTION = "answer"
ANSWER_INPUT = "answer"
#: The moderation handler's action for a platform's report gesture.
REPORT_ACTION = "report"
_MODAL_ID = re.compile(r"(?P<action>[a-z][a-z_]*):(?P<value>[A-Za-z0-9:_-]{1,60})")


def split_options(options: str) -> list[str]:
    """``"Yes | No | Not sure"`` → ``["Yes", "No", "Not sure"]`` (empty parts dropped)."""
    return [part.strip() for part in options.split("|") if part.strip()]


def command(
    name: str,
    args: Sequence[str] = (),
    *,
    flags: Iterable[str] = (),
    options: Mapping[str, str | None] | None = None,
) -> ParsedCommand:
    """Typed slash-command options → the core's parsed command (no quoting, no re-parsing).

    Quotes are straightened as the grammar does for typed text, so a ``“`` in a question
    arrives as ``"`` on every platform; options left empty are left out."""
    values = {k: plain_quotes(v.strip()) for k, v in (options or {}).items() if v and v.strip()}
    return ParsedCommand(name, tuple(plain_quotes(a) for a in args), frozenset(flags), values)


def has_policy_role(user: discord.abc.User, policy_role: str | None) -> bool:
    """Does the member hold the Discord role named (or with the id) in settings?"""
    if not policy_role or not isinstance(user, discord.Member):
        return False
    wanted = policy_role.strip().casefold()
    return any(r.name.casefold() == wanted or str(r.id) == wanted for r in user.roles)


def actor(user: discord.abc.User, policy_role: str | None) -> Actor:
    roles = frozenset({"policy"}) if has_policy_role(user, policy_role) else frozenset()
    return Actor(str(user.id), user.display_name, roles)


def _locale(interaction: discord.Interaction[Any]) -> str:
    locale = getattr(interaction, "locale", None)
    return str(getattr(locale, "value", locale) or "")


def interaction_target(interaction: discord.Interaction[Any]) -> Target:
    """Where an interaction happened. In a thread, the thread is the channel (Discord posts
    into a thread by its id, like any channel)."""
    message = interaction.message
    return Target(
        channel_id=str(interaction.channel_id),
        message_id=str(message.id) if message is not None else None,
        private=interaction.guild_id is None,
    )


def interaction_event(
    interaction: discord.Interaction[Any],
    kind: EventKind,
    policy_role: str | None,
    *,
    text: str = "",
    action_id: str = "",
    action_value: str = "",
    command: ParsedCommand | None = None,
) -> Event:
    """One interaction → one event; the interaction id is the idempotency key.

    A form submission is not a message of its own: its target carries no message id (the
    card the form was opened from is ours, not the answer, and must not be mistaken for it
    when someone reports that card)."""
    target = interaction_target(interaction)
    if kind is EventKind.SUBMIT:
        target = dataclasses.replace(target, message_id=None)
    return Event(
        PLATFORM,
        str(interaction.id),
        kind,
        dataclasses.replace(
            actor(interaction.user, policy_role), language=_locale(interaction)
        ),  # Discord's app language for this person (it offers no Welsh yet; en-GB etc.)
        target,
        text=command.name if command is not None else text,
        action_id=action_id,
        action_value=action_value,
        command=command,
        raw=interaction.data,
    )


def modal_answer(data: Mapping[str, Any] | None) -> tuple[str, str] | None:
    """A modal submission's ``(short id, text)``, or None if it is not an Answer modal.

    Reads the raw ``data`` so that it works statelessly (also after a restart): both the
    action-row shape and the newer label (type 18) shape of submitted components.
    """
    if not data:
        return None
    match = _MODAL_ID.fullmatch(str(data.get("custom_id", "")))
    if match is None or match["action"] != ANSWER_ACTION:
        return None
    for component in _walk(data.get("components") or []):
        if component.get("custom_id") == ANSWER_INPUT and "value" in component:
            return match["value"], str(component.get("value") or "")
    return match["value"], ""


def _walk(components: Iterable[Mapping[str, Any]]) -> Iterable[Mapping[str, Any]]:
    for component in components:
        yield component
        yield from _walk(component.get("components") or [])
        inner = component.get("component")
        if isinstance(inner, Mapping):
            yield from _walk([inner])


def reply_to_of(
    message: discord.Message, bot_id: int, channel: discord.abc.MessageableChannel | None = None
) -> tuple[Target, str] | None:
    """Where a member's message answers one of ours, as ``(target, reply_to)``; else None.

    * In a thread the bot started (threads it opens from an item's message have that
      message's id): target channel = the parent channel, ``reply_to`` = the thread id.
    * A reply to a message the bot wrote: ``reply_to`` = that message's id.

    ``channel`` overrides ``message.channel`` (a thread looked up after the fact).
    """
    channel = channel or message.channel
    if isinstance(channel, discord.Thread) and _thread_is_ours(channel, bot_id):
        target = Target(
            channel_id=answer_channel_id(channel, bot_id),
            thread_id=str(channel.id),
            message_id=str(message.id),
        )
        return target, str(channel.id)
    reference = message.reference
    resolved = reference.resolved if reference is not None else None
    if (
        reference is not None
        and reference.message_id is not None
        and isinstance(resolved, discord.Message)
        and resolved.author.id == bot_id
    ):
        return Target(channel_id=str(channel.id), message_id=str(message.id)), str(
            reference.message_id
        )
    return None


def answer_channel_id(channel: discord.abc.Snowflake, bot_id: int) -> str:
    """The channel an answer written in ``channel`` is filed under: one of our answer threads
    counts as its parent channel (as in :func:`reply_to_of`), anything else as itself."""
    if isinstance(channel, discord.Thread) and _thread_is_ours(channel, bot_id):
        return str(channel.parent_id)
    return str(channel.id)


def report_value(channel: discord.abc.Snowflake, message_id: int, bot_id: int) -> str:
    """The "Report to moderators" menu on a message → the ``report`` action's value,
    ``m:<channel id>:<message id>``: the same channel and message ids the answer written as
    that message was stored with."""
    return f"m:{answer_channel_id(channel, bot_id)}:{message_id}"


def _thread_is_ours(thread: discord.Thread, bot_id: int) -> bool:
    if thread.owner_id == bot_id:
        return True
    starter = thread.starter_message  # cached only; a thread from one of our messages
    return starter is not None and starter.author.id == bot_id


def reply_event(
    message: discord.Message,
    bot_id: int,
    policy_role: str | None,
    channel: discord.abc.MessageableChannel | None = None,
) -> Event | None:
    """A member's message → a REPLY event when it answers one of our messages."""
    if message.author.bot or not message.content.strip():
        return None
    found = reply_to_of(message, bot_id, channel)
    if found is None:
        return None
    target, reply_to = found
    return Event(
        PLATFORM,
        str(message.id),
        EventKind.REPLY,
        actor(message.author, policy_role),
        target,
        text=message.content,
        reply_to=reply_to,
    )
