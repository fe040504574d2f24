"""Acknowledging an update on Telegram, after the core committed it.

Telegram has no ephemeral messages in groups. A button click is answered with
``answerCallbackQuery`` (a toast only the clicker sees). Anything else is answered with a
message replying to the person's message, in the same chat and forum topic, visible to the
group; except cards (results hold people's answers from every platform; consent, personal data
and moderation cards are for one person) and confidential notices: those go to the person's
private chat with the bot, never to the group.

Nothing here raises: an acknowledgement that cannot be delivered is logged and dropped (the
event itself is already committed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from telegram import Bot, CallbackQuery, Message, ReplyParameters, Update
from telegram.error import Forbidden, TelegramError

from adapters.telegram import render
from adapters.telegram.errors import describe
from bot.adapter import Capabilities, Outcome
from bot.events import Event, EventKind
from bot.i18n import Translator, choose, identity_translator, translator_for
from bot.messages import (
    CLICK_FAILED,
    MESSAGE_FAILED,
    OPEN_PRIVATE_CHAT,
    PRIVATE_FAILED,
    SENT_PRIVATELY,
    say,
)
from bot.notices import Route, asks_for_reply, plan
from bot.views import Notice, View

log = structlog.get_logger("townhall.telegram")


class Acknowledger:
    """Posts messages and acknowledgements for one bot."""

    def __init__(self, bot: Bot, capabilities: Capabilities) -> None:
        self.bot = bot
        self.capabilities = capabilities

    async def post(
        self,
        *,
        chat_id: int | str,
        payload: render.Payload,
        thread_id: int | None = None,
        reply_to: int | None = None,
        answer_within: float | None = None,
    ) -> Message:
        """sendMessage; raises TelegramError (the caller decides what a failure means).
        ``answer_within``: how long to wait for Telegram's answer (PTB's default when None)."""
        # PTB reads an explicit None as "wait forever", so pass the timeouts only when given.
        timeouts: dict[str, Any] = (
            {"read_timeout": answer_within, "write_timeout": answer_within}
            if answer_within is not None
            else {}
        )
        return await self.bot.send_message(
            chat_id,
            payload.text,
            parse_mode=payload.parse_mode,
            reply_markup=payload.keyboard,
            message_thread_id=thread_id,
            reply_parameters=(
                ReplyParameters(reply_to, allow_sending_without_reply=True)
                if reply_to is not None
                else None
            ),
            link_preview_options=render.NO_PREVIEW,
            **timeouts,
        )

    async def acknowledge(self, update: Update, event: Event, outcome: Outcome) -> None:
        if outcome.duplicate:
            return  # acknowledged when it first arrived
        if update.callback_query is not None:
            await self._acknowledge_click(
                update.callback_query, event, outcome.notices, translator_for(outcome.language)
            )
        elif update.message is not None:
            await self._acknowledge_message(
                update.message, event, outcome.notices, translator_for(outcome.language)
            )

    async def _acknowledge_message(
        self, message: Message, event: Event, notices: Sequence[View], t: Translator
    ) -> None:
        """Reply in place; in a group, what the planner sends privately goes to the person's
        private chat and the group hears once that it did (a moderator's queue is several
        cards)."""
        sent_privately = say(SENT_PRIVATELY, t)
        notes: list[str] = []
        for run in plan(notices, self.capabilities, private_chat=event.target.private):
            for view in run.views:
                if run.route is Route.HERE:
                    for part in render.payloads(view):
                        await self._reply_here(message, event, part)
                    continue
                if notes and notes[-1] != sent_privately:
                    continue  # the private chat is closed or failing: one note is enough
                note = await self._send_privately(event, view, t)
                if note not in notes:
                    notes.append(note)
        for note in notes:
            await self._reply_here(message, event, render.payload(Notice(note)))

    async def _acknowledge_click(
        self, query: CallbackQuery, event: Event, notices: Sequence[View], t: Translator
    ) -> None:
        """A toast with the short notices; what does not fit in one (cards, long texts) is
        sent to the person's private chat with the bot."""
        await self._answer(
            query,
            await self.click_toast(event, notices, t),
            # a reply prompt (how to answer without a form) must be read, not flash by
            alert=asks_for_reply(event.action_id or "", self.capabilities),
        )

    async def click_toast(
        self, event: Event, notices: Sequence[View], t: Translator = identity_translator
    ) -> str | None:
        """The toast text for a click, after sending privately what does not fit in one."""
        lines: list[str] = []
        for run in plan(notices, self.capabilities, ephemeral=_fits_toast, in_place=False):
            for view in run.views:
                if isinstance(view, Notice) and run.route is Route.EPHEMERAL:
                    lines.append(view.text)
                    continue
                note = await self._send_privately(event, view, t)
                if note not in lines:
                    lines.append(note)
        return render.callback_text([Notice(line) for line in lines])

    async def apologise(self, update: Update, event: Event, *, will_retry: bool) -> None:
        """The core could not commit the event (database outage)."""
        if update.callback_query is not None:
            await self._answer(update.callback_query, say(CLICK_FAILED, hinted(event)), alert=False)
        elif (
            update.message is not None
            and not will_retry  # in webhook mode Telegram sends it again: say nothing yet
            and event.kind in (EventKind.COMMAND, EventKind.REPLY)
        ):
            await self._reply_here(
                update.message, event, render.payload(Notice(say(MESSAGE_FAILED, hinted(event))))
            )

    async def dismiss(self, update: Update) -> None:
        """A click we do not handle: stop the button's spinner."""
        if update.callback_query is not None:
            await self._answer(update.callback_query, None, alert=False)

    async def _answer(self, query: CallbackQuery, text: str | None, *, alert: bool) -> None:
        try:
            await self.bot.answer_callback_query(query.id, text=text, show_alert=alert)
        except TelegramError as exc:  # too old, answered already, rate limited...
            log.warning("telegram callback answer failed", error=describe(exc))

    async def _reply_here(self, message: Message, event: Event, payload: render.Payload) -> None:
        thread = event.target.thread_id
        try:
            await self.post(
                chat_id=message.chat_id,
                payload=payload,
                thread_id=int(thread) if thread else None,
                reply_to=message.message_id,
            )
        except TelegramError as exc:
            log.warning("telegram notice not delivered", error=describe(exc))

    async def _send_privately(
        self, event: Event, view: View, t: Translator = identity_translator
    ) -> str:
        """Send to the person's private chat; returns what to tell them where they are."""
        try:  # a private chat's id is the user's id
            for part in render.payloads(view):
                await self.post(chat_id=int(event.actor.user_id), payload=part)
        except Forbidden:
            return say(OPEN_PRIVATE_CHAT, t, bot=self.bot.username)
        except TelegramError as exc:
            log.warning("telegram private notice not delivered", error=describe(exc))
            return say(PRIVATE_FAILED, t)
        return say(SENT_PRIVATELY, t)


def hinted(event: Event) -> Translator:
    """When the core could not answer (no database), the language Telegram says they use."""
    return translator_for(choose(event.actor.language))


def _fits_toast(view: View) -> bool:
    return isinstance(view, Notice) and len(view.text) <= render.MAX_CALLBACK_TEXT
