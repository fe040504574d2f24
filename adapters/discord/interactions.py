"""Dispatch Discord interactions and member messages to the core, then answer on Discord.

Every interaction is answered only after ``dispatch`` returned (the effect is committed):
directly when that takes less than ``defer_after`` seconds, otherwise after an ephemeral
"thinking" deferral that keeps the interaction alive past Discord's 3-second limit.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any

import discord
import structlog

from adapters.discord import render, translate
from bot.adapter import Capabilities, Dispatch, Outcome
from bot.budget import dispatch_within
from bot.events import Event, EventKind
from bot.grammar import ParsedCommand
from bot.i18n import translator_for
from bot.messages import (
    ALREADY,
    CANNOT_POST,
    DB_DOWN,
    DMS_CLOSED,
    DONE,
    IN_THIS_CHANNEL,
    IN_THIS_THREAD,
    say,
)
from bot.notices import opens_form

log = structlog.get_logger("townhall.discord")

#: Discord has forms (modals) for its Answer button.
FORMS = Capabilities(modals=True, ephemeral=True)
#: Error code Discord answers when an interaction was already acknowledged.
ALREADY_ACKNOWLEDGED = 40060
UNKNOWN_INTERACTION = 10062


def cannot_post_message(missing: list[str], in_thread: bool) -> str:
    return say(
        CANNOT_POST,
        where=say(IN_THIS_THREAD if in_thread else IN_THIS_CHANNEL),
        missing=", ".join(missing),
        s="" if len(missing) == 1 else "s",
    )


def missing_post_permissions(perms: discord.Permissions, *, in_thread: bool) -> list[str]:
    """What the bot lacks to publish a card where an interaction happened."""
    needed = [
        ("View Channel", perms.view_channel),
        (
            "Send Messages in Threads" if in_thread else "Send Messages",
            perms.send_messages_in_threads if in_thread else perms.send_messages,
        ),
        ("Embed Links", perms.embed_links),
    ]
    return [name for name, ok in needed if not ok]


class Settled:
    """How recent events ended (``ok``, ``duplicate``, ``repeat``, ``error`` ...), by event id;
    bounded. Lets tests (and anyone else) await the end of an event without sleeping."""

    def __init__(self, keep: int = 10_000) -> None:
        self.keep = keep
        self._results: OrderedDict[str, list[str]] = OrderedDict()
        self._changed = asyncio.Event()

    def mark(self, key: str, result: str) -> None:
        self._results.setdefault(key, []).append(result)
        self._results.move_to_end(key)
        while len(self._results) > self.keep:
            self._results.popitem(last=False)
        self._changed.set()
        self._changed = asyncio.Event()

    def results(self, key: str) -> list[str]:
        return list(self._results.get(key, []))

    async def wait(self, key: str, count: int = 1, timeout: float = 10.0) -> list[str]:  # noqa: ASYNC109
        async with asyncio.timeout(timeout):
            while len(self._results.get(key, [])) < count:
                await self._changed.wait()
        return self.results(key)


class Bridge:
    """Turns interactions and messages into events and answers with the outcome's notices."""

    def __init__(
        self,
        dispatch: Dispatch,
        *,
        policy_role: str | None,
        defer_after: float = 1.5,
        settled: Settled | None = None,
        capabilities: Capabilities = FORMS,
    ) -> None:
        self.dispatch = dispatch
        self.capabilities = capabilities
        self.policy_role = policy_role
        self.defer_after = defer_after
        self.settled = settled or Settled()
        self._seen: OrderedDict[int, None] = OrderedDict()
        self._inflight: set[asyncio.Future[Outcome]] = set()

    def _first_delivery(self, interaction: discord.Interaction[Any]) -> bool:
        """False for a second delivery of an interaction this process already took."""
        if interaction.id in self._seen:
            self.settled.mark(str(interaction.id), "repeat")
            return False
        self._seen[interaction.id] = None
        while len(self._seen) > self.settled.keep:
            self._seen.popitem(last=False)
        return True

    # -- entry points ---------------------------------------------------------------------

    async def command(
        self,
        interaction: discord.Interaction[Any],
        command: ParsedCommand,
        *,
        publishes: bool = False,
    ) -> None:
        """A ``/townhall`` subcommand, already parsed into the core grammar's form."""
        if not self._first_delivery(interaction):
            return
        if publishes and interaction.guild_id is not None:
            in_thread = isinstance(interaction.channel, discord.Thread)
            missing = missing_post_permissions(interaction.app_permissions, in_thread=in_thread)
            if missing:
                log.info("cannot publish here", missing=missing)
                await self._answer_text(interaction, cannot_post_message(missing, in_thread))
                self.settled.mark(str(interaction.id), "no-permission")
                return
        event = translate.interaction_event(
            interaction, EventKind.COMMAND, self.policy_role, command=command
        )
        await self._run(interaction, event)

    async def click(
        self, interaction: discord.Interaction[Any], action_id: str, value: str
    ) -> None:
        """A button: form buttons open the modal themselves, the rest are ACTION events."""
        if not self._first_delivery(interaction):
            return
        if opens_form(action_id, self.capabilities):
            modal = render.AnswerModal(value, render.question_of(interaction.message))
            try:
                await interaction.response.send_modal(modal)
            except discord.HTTPException as exc:
                self._response_failed(exc)
            finally:
                modal.stop()  # submissions are read statelessly in on_interaction
            self.settled.mark(str(interaction.id), "modal")
            return
        event = translate.interaction_event(
            interaction, EventKind.ACTION, self.policy_role, action_id=action_id, action_value=value
        )
        await self._run(interaction, event)

    async def report(self, interaction: discord.Interaction[Any], message: discord.Message) -> None:
        """The "Report to moderators" message menu → ACTION ``report`` ``m:<channel>:<id>``."""
        if not self._first_delivery(interaction):
            return
        me = interaction.client.user
        channel = interaction.channel or message.channel
        value = translate.report_value(channel, message.id, me.id if me is not None else 0)
        event = translate.interaction_event(
            interaction,
            EventKind.ACTION,
            self.policy_role,
            action_id=translate.REPORT_ACTION,
            action_value=value,
        )
        await self._run(interaction, event)

    async def submit(self, interaction: discord.Interaction[Any]) -> None:
        """A modal submission: the Answer form becomes a SUBMIT event."""
        found = translate.modal_answer(interaction.data)
        if found is None:
            return  # not one of ours
        if not self._first_delivery(interaction):
            return
        short_id, text = found
        event = translate.interaction_event(
            interaction,
            EventKind.SUBMIT,
            self.policy_role,
            text=text,
            action_id=translate.ANSWER_ACTION,
            action_value=short_id,
        )
        await self._run(interaction, event)

    async def message(
        self,
        message: discord.Message,
        bot_id: int,
        channel: discord.abc.MessageableChannel | None = None,
    ) -> None:
        """A member's message that answers one of ours (a reply, or in the item's thread)."""
        event = translate.reply_event(message, bot_id, self.policy_role, channel)
        if event is None:
            return
        try:
            outcome = await self.dispatch(event)
        except Exception as exc:
            _dispatch_failed(event, exc)
            await self._reply(message, render.MessageParts(content=say(DB_DOWN)))
            self.settled.mark(event.event_id, "error")
            return
        if outcome.duplicate:
            self.settled.mark(event.event_id, "duplicate")
            return
        for parts in render.notice_messages(outcome.notices):
            await self._reply(message, parts)
        self.settled.mark(event.event_id, "ok" if outcome.handled else "ignored")

    # -- answering ------------------------------------------------------------------------

    async def _run(self, interaction: discord.Interaction[Any], event: Event) -> None:
        deferred = False
        try:
            result = await dispatch_within(
                self.dispatch, event, self.defer_after, started=self._keep
            )
            if isinstance(result, asyncio.Task):
                deferred = await self._defer(interaction)
                result = await result
            outcome = result
        except Exception as exc:
            _dispatch_failed(event, exc)
            await self._answer(interaction, [render.MessageParts(content=say(DB_DOWN))], deferred)
            self.settled.mark(event.event_id, "error")
            return
        await self._answer(interaction, self._messages(outcome), deferred)
        self.settled.mark(event.event_id, _label(outcome))

    def _keep(self, task: asyncio.Task[Outcome]) -> None:
        """Finishes (and commits) even if we stop waiting for it: stop() waits for these."""
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    @staticmethod
    def _messages(outcome: Outcome) -> list[render.MessageParts]:
        if outcome.duplicate:
            return [render.MessageParts(content=say(ALREADY))]
        done = say(DONE, translator_for(outcome.language))
        return render.notice_messages(outcome.notices) or [render.MessageParts(content=done)]

    async def _defer(self, interaction: discord.Interaction[Any]) -> bool:
        try:
            await interaction.response.defer(ephemeral=True, thinking=True)
        except discord.HTTPException as exc:
            self._response_failed(exc)
            return False
        return True

    async def _answer(
        self,
        interaction: discord.Interaction[Any],
        messages: list[render.MessageParts],
        deferred: bool,
    ) -> None:
        """The first message answers the interaction (or fills the deferred one); any further
        ones (e.g. several cards with buttons) follow as ephemeral followups."""
        first, *rest = messages
        try:
            if deferred:
                await interaction.edit_original_response(
                    content=first.content,
                    embeds=first.embeds,
                    view=first.view,
                    allowed_mentions=_NO_MENTIONS,
                )
            elif interaction.response.is_done():
                return
            else:
                await interaction.response.send_message(
                    content=first.content,
                    embeds=first.embeds,
                    view=first.view or discord.utils.MISSING,
                    ephemeral=True,
                    allowed_mentions=_NO_MENTIONS,
                )
            for more in rest:
                await interaction.followup.send(
                    content=more.content or discord.utils.MISSING,
                    embeds=more.embeds,
                    view=more.view or discord.utils.MISSING,
                    ephemeral=True,
                    allowed_mentions=_NO_MENTIONS,
                )
        except discord.HTTPException as exc:
            self._response_failed(exc)

    async def _answer_text(self, interaction: discord.Interaction[Any], text: str) -> None:
        await self._answer(interaction, [render.MessageParts(content=text)], deferred=False)

    @staticmethod
    def _response_failed(exc: discord.HTTPException) -> None:
        if exc.code == ALREADY_ACKNOWLEDGED:
            # A second delivery of an interaction answered elsewhere (another process, or
            # before a restart): the core already ignored it, nothing more to say.
            log.debug("interaction already acknowledged")
        elif exc.code == UNKNOWN_INTERACTION:
            log.warning("interaction expired before it was answered; its effect is saved")
        else:
            log.warning("could not answer interaction", status=exc.status, code=exc.code)

    async def _reply(self, message: discord.Message, parts: render.MessageParts) -> None:
        """Answer a member's message in place (Discord has no private reply to a message);
        confidential notices go to the author as a direct message instead."""
        kwargs: dict[str, Any] = {
            "content": parts.content,
            "embeds": parts.embeds,
            "allowed_mentions": _NO_MENTIONS,
        }
        if parts.view is not None:
            kwargs["view"] = parts.view
        try:
            if parts.confidential:
                try:
                    await message.author.send(**kwargs)
                    return
                except discord.Forbidden:
                    kwargs = {
                        "content": say(DMS_CLOSED),
                        "embeds": [],
                        "allowed_mentions": _NO_MENTIONS,
                    }
            await message.reply(mention_author=False, silent=True, **kwargs)
        except discord.HTTPException as exc:
            log.warning("could not reply to a message", status=exc.status, code=exc.code)


_NO_MENTIONS = discord.AllowedMentions.none()


def _dispatch_failed(event: Event, exc: Exception) -> None:
    # Only the type: a database error's text can carry the statement's parameters (user text).
    log.error("dispatch failed; not acknowledged", kind=event.kind.value, error=type(exc).__name__)


def _label(outcome: Outcome) -> str:
    if outcome.duplicate:
        return "duplicate"
    if outcome.failed:
        return "failed"
    return "ok" if outcome.handled else "ignored"
