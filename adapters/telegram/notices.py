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
from bot.adapter import Outcome
from bot.events import Event, EventKind
from bot.views import Card, Notice, View

log = structlog.get_logger("townhall.telegram")

CLICK_FAILED = "Sorry, that did not go through. Please try again in a moment."
MESSAGE_FAILED = (
    "Sorry, we could not save that just now. Nothing was recorded: please send it again in a "
    "minute."
)
SENT_PRIVATELY = "I've sent you that in our private chat."


class Acknowledger:
    """Posts messages and acknowledgements for one bot."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

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
            await self._acknowledge_click(update.callback_query, event, outcome.notices)
        elif update.message is not None:
            await self._acknowledge_message(update.message, event, outcome.notices)

    async def _acknowledge_message(
        self, message: Message, event: Event, notices: Sequence[View]
    ) -> None:
        """Reply in place; in a group, what is for one person goes to their private chat and
        the group hears once that it did (a moderator's queue is several cards)."""
        notes: list[str] = []
        for view in notices:
            if event.target.private or not _for_one_person(view):
                for part in render.payloads(view):
                    await self._reply_here(message, event, part)
                continue
            if notes and notes[-1] != SENT_PRIVATELY:
                continue  # the private chat is closed or failing: one note is enough
            note = await self._send_privately(event, view)
            if note not in notes:
                notes.append(note)
        for note in notes:
            await self._reply_here(message, event, render.payload(Notice(note)))

    async def _acknowledge_click(
        self, query: CallbackQuery, event: Event, notices: Sequence[View]
    ) -> None:
        """A toast with the short notices; what does not fit in one (cards, long texts) is
        sent to the person's private chat with the bot."""
        await self._answer(
            query,
            await self.click_toast(event, notices),
            # the Answer button's instructions must be read, not flash by
            alert=event.action_id == "answer",
        )

    async def click_toast(self, event: Event, notices: Sequence[View]) -> str | None:
        """The toast text for a click, after sending privately what does not fit in one."""
        lines: list[str] = []
        for view in notices:
            if isinstance(view, Notice) and len(view.text) <= render.MAX_CALLBACK_TEXT:
                lines.append(view.text)
                continue
            note = await self._send_privately(event, view)
            if note not in lines:
                lines.append(note)
        return render.callback_text([Notice(line) for line in lines])

    async def apologise(self, update: Update, event: Event, *, will_retry: bool) -> None:
        """The core could not commit the event (database outage)."""
        if update.callback_query is not None:
            await self._answer(update.callback_query, CLICK_FAILED, alert=False)
        elif (
            update.message is not None
            and not will_retry  # in webhook mode Telegram sends it again: say nothing yet
            and event.kind in (EventKind.COMMAND, EventKind.REPLY)
        ):
            await self._reply_here(update.message, event, render.payload(Notice(MESSAGE_FAILED)))

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

    async def _send_privately(self, event: Event, view: View) -> str:
        """Send to the person's private chat; returns what to tell them where they are."""
        try:  # a private chat's id is the user's id
            for part in render.payloads(view):
                await self.post(chat_id=int(event.actor.user_id), payload=part)
        except Forbidden:
            return (
                "I can't message you privately yet: open a chat with "
                f"@{self.bot.username}, press Start, then try again."
            )
        except TelegramError as exc:
            log.warning("telegram private notice not delivered", error=describe(exc))
            return "Sorry, I couldn't send you that privately. Please try again."
        return SENT_PRIVATELY


def _for_one_person(view: View) -> bool:
    # ``confidential`` is read leniently: older cores' views do not have it.
    return isinstance(view, Card) or bool(getattr(view, "confidential", False))
