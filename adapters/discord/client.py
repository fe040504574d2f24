"""The discord.py client: command tree, persistent buttons, modal submissions, thread answers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import discord
import structlog
from discord import app_commands

from adapters.discord import render, shape
from adapters.discord.commands import build_group, build_report_menu
from adapters.discord.endpoints import Endpoints
from adapters.discord.interactions import Bridge
from bot.grammar import CommandSpec

log = structlog.get_logger("townhall.discord")

#: Long rate limits become DeliveryError(retry_after) for the outbox, not a stall.
MAX_RATELIMIT_TIMEOUT = 30.0


def intents_for(*, thread_answers: bool) -> discord.Intents:
    """Minimal intents: guilds (channels, roles, threads) for interactions and role names.

    Thread answers need the member messages, hence guild messages plus the privileged
    message-content intent (switch it on in the developer portal too).
    """
    intents = discord.Intents.none()
    intents.guilds = True
    if thread_answers:
        intents.guild_messages = True
        intents.message_content = True
    return intents


class TownhallClient(discord.Client):
    """Routes everything to the :class:`Bridge`; keeps no per-item state.

    * Buttons: :class:`render.ActionButton` is a ``DynamicItem`` registered once in
      ``setup_hook``; discord.py matches every clicked custom id against its template, so
      buttons on any message we ever sent work, also after a restart, and nothing is stored
      per message (a view made only of dynamic items is not kept in discord.py's view store).
    * Modal submissions: read from the raw interaction in ``on_interaction`` by custom id,
      so a form opened before a restart is still accepted after it.
    """

    def __init__(
        self,
        bridge: Bridge,
        *,
        guild_ids: Sequence[int] = (),
        thread_answers: bool = False,
        guild_ready_timeout: float = 2.0,
        endpoints: Endpoints | None = None,
        commands: Sequence[CommandSpec] = (),
        sync_on_login: bool = True,
        shard: tuple[int, int] | None = None,
    ) -> None:
        """``sync_on_login=False``: the commands are synced by whoever opens the gateway
        (:meth:`sync_commands`), not by every worker that logs in to send over REST.
        ``shard``: (shard id, shard count) for a client that runs one shard of the gateway
        (IDENTIFY carries it; Discord sends it the events of its guilds and, to shard 0, DMs).
        """
        self.sync_on_login = sync_on_login
        # Townhall never joins voice: skip discord.py's start-up warnings about voice libraries.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        super().__init__(
            intents=intents_for(thread_answers=thread_answers),
            guild_ready_timeout=guild_ready_timeout,
            max_ratelimit_timeout=MAX_RATELIMIT_TIMEOUT,
            allowed_mentions=discord.AllowedMentions.none(),
            shard_id=shard[0] if shard is not None else None,
            shard_count=shard[1] if shard is not None else None,
        )
        self.endpoints = endpoints
        if endpoints is not None:
            # Our own URLs for this client only (discord.py keeps them process-wide).
            self.http = endpoints.http_client(
                loop=self.loop, max_ratelimit_timeout=MAX_RATELIMIT_TIMEOUT
            )
            self._connection.http = self.http
        self.bridge = bridge
        self.guild_ids = list(guild_ids)
        self.thread_answers = thread_answers
        self.tree = QuietTree(self)
        if any(spec.slash for spec in commands):
            self.tree.add_command(build_group(bridge, commands))
        self.tree.add_command(build_report_menu(bridge))
        self.synced: list[app_commands.AppCommand] = []
        _guard_parsers(self._connection.parsers)

    async def connect(self, *, reconnect: bool = True) -> None:
        if self.endpoints is not None:
            self.endpoints.enter()  # this task and the event handlers it starts
        await super().connect(reconnect=reconnect)

    async def setup_hook(self) -> None:
        self.add_dynamic_items(render.ActionButton)
        if self.sync_on_login:
            await self.sync_commands()

    async def sync_commands(self) -> None:
        """Sync ``/townhall`` and the report menu to the configured guilds (instant) or
        globally (may take a while to show up). A failure is logged, not fatal: buttons and
        forms keep working."""
        try:
            if not self.guild_ids:
                self.synced = await self.tree.sync()
                log.info("commands synced globally", commands=len(self.synced))
                return
            for guild_id in self.guild_ids:
                guild = discord.Object(guild_id)
                self.tree.copy_global_to(guild=guild)
                self.synced = await self.tree.sync(guild=guild)
            log.info("commands synced to guilds", guilds=len(self.guild_ids))
        except discord.HTTPException as exc:
            log.error(
                "could not sync the /townhall command; invite the bot with the "
                "applications.commands scope (and check TOWNHALL_DISCORD_GUILD_IDS)",
                status=exc.status,
                code=exc.code,
            )

    async def on_click(
        self, interaction: discord.Interaction[Any], action_id: str, value: str
    ) -> None:
        await self.bridge.click(interaction, action_id, value)

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        if interaction.type is discord.InteractionType.modal_submit:
            await self.bridge.submit(interaction)

    async def on_message(self, message: discord.Message) -> None:
        if not self.thread_answers or self.user is None or message.author.bot:
            return
        channel: discord.abc.MessageableChannel | None = None
        if message.guild is not None and isinstance(message.channel, discord.PartialMessageable):
            # A thread we have not cached (e.g. created while we were away): look it up.
            try:
                fetched = await self.fetch_channel(message.channel.id)
            except discord.HTTPException:
                return
            if isinstance(fetched, discord.Thread):
                channel = fetched
        await self.bridge.message(message, self.user.id, channel)

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        log.exception("discord event handler failed", handler=event_method)


class QuietTree(app_commands.CommandTree["TownhallClient"]):
    """discord.py's command tree, but a command it cannot match (options of the wrong shape)
    is a refused input: logged in one line without content, never a traceback."""

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError, /
    ) -> None:
        log.warning(
            "discord command not understood; ignored",
            command=getattr(interaction.command, "name", None),
            error=type(error).__name__,
        )


def _guarded(name: str, parse: Callable[[Any], None]) -> Callable[[Any], None]:
    def run(data: Any) -> None:
        if name == "INTERACTION_CREATE":
            where = shape.problem(data)
            if where is not None:
                log.warning("discord interaction not understood; ignored", where=where)
                return
        try:
            parse(data)
        except Exception as exc:  # e.g. an interaction whose id is not a number
            log.warning(
                "discord event not understood; ignored", kind=name, error=type(exc).__name__
            )

    return run


def _guard_parsers(parsers: dict[str, Callable[[Any], None]]) -> None:
    """discord.py parses gateway events inside its websocket reader: one event it cannot read
    (a field of the wrong type) ends the connection for good. Ignore that event instead."""
    for name, parse in list(parsers.items()):
        parsers[name] = _guarded(name, parse)
