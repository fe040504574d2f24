"""Bolt listeners: each one translates a request, dispatches it, then acknowledges Slack.

The app runs with ``process_before_response=True``, so the HTTP answer (or the Socket Mode
ack) leaves only when a listener returns, i.e. after the core committed the event:

* Events API (thread replies): dispatch, then 200. If the database is down the listener
  raises, bolt answers 500 and Slack delivers the event again later (deduplicated by id).
* Slash commands, buttons, modals and shortcuts are never redelivered by Slack and must be
  acknowledged within 3 s. Dispatch gets ``ack_budget`` seconds (normally it takes
  milliseconds): a slash command's notices go back in the ack itself (ephemeral), a modal's in
  the modal (``response_action: update``), a click's through the ``response_url`` right after
  the ack (a click inside a modal updates that modal). If the budget runs out we ack with
  "Working on it" and deliver the notices when the commit lands; if the database is down the
  person gets a short apology.
* Each card with buttons is its own ephemeral message (the moderation queue: one per answer),
  so the answer to a click replaces that card only; a command's further messages follow the
  ack through its ``response_url``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import aiohttp
import structlog
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack import render, translate
from bot.adapter import Dispatch, Outcome
from bot.budget import dispatch_within
from bot.events import Event
from bot.messages import NOT_SAVED_SHORT, NOTHING_SAVED, SAVING, WORKING, say
from bot.notices import is_step
from bot.views import Notice, View

log = structlog.get_logger("townhall.slack")

ANY = re.compile(".*")
Spawn = Callable[[Coroutine[Any, Any, None]], None]
#: Says notices to the person who acted, wherever this interaction can.
Tell = Callable[[Sequence[View]], Coroutine[Any, Any, None]]
Body = dict[str, Any]


class NotStarted(RuntimeError):
    """A request arrived before the adapter was started (or after it stopped)."""


class Inbound:
    """Registers the listeners on a bolt app and turns each request into one core event."""

    def __init__(self, client: AsyncWebClient, *, ack_budget: float, spawn: Spawn) -> None:
        self.client = client  # bolt's client: Slack calls made on the acknowledgement path
        self.ack_budget = ack_budget
        self.spawn = spawn
        self.dispatch: Dispatch | None = None
        #: The adapter's connection pool while it runs: each click's confirmation goes to its
        #: own response_url, and without it slack_sdk opened a new connection for every one.
        self.session: aiohttp.ClientSession | None = None

    def register(self, app: AsyncApp) -> None:
        app.command(ANY)(self.on_command)
        app.block_action(ANY)(self.on_block_action)
        app.view_submission(re.compile(f"^{re.escape(translate.FORM_PREFIX)}"))(self.on_submit)
        app.view_submission(ANY)(self.on_ack_only)
        app.view_closed(ANY)(self.on_ack_only)
        app.message_shortcut(translate.REPORT_CALLBACK)(self.on_report)
        app.block_suggestion(ANY)(self.on_options)
        app.event("message")(self.on_message)
        app.error(self.on_error)

    # -- dispatching ---------------------------------------------------------------------

    async def _dispatch(self, event: Event) -> Outcome:
        if self.dispatch is None:
            raise NotStarted("the Slack adapter is not started")
        return await self.dispatch(event)

    async def _dispatch_briefly(self, event: Event) -> Outcome | asyncio.Task[Outcome]:
        """The outcome if the commit lands within the budget, else the still-running task.

        Raises when dispatch failed (database unreachable): nothing was committed.
        """
        result = await dispatch_within(self._dispatch, event, self.ack_budget)
        if isinstance(result, asyncio.Task):
            log.warning("slow dispatch, acknowledged first", kind=event.kind.value)
        return result

    @staticmethod
    def _failed(event: Event, exc: BaseException) -> None:
        log.warning("dispatch failed", kind=event.kind.value, error=type(exc).__name__)

    # -- telling the person --------------------------------------------------------------

    async def respond(
        self, response_url: str | None, notices: Sequence[View], *, replace: bool = False
    ) -> None:
        """Post notices privately through an interaction's ``response_url``.

        ``replace``: the click came from an ephemeral card (consent, erase, a moderation
        card): the answer takes its place, so its buttons cannot be pressed twice.
        """
        if notices and response_url:
            await self.respond_messages(response_url, render.private_messages(notices), replace)

    async def respond_messages(
        self, response_url: str, messages: Sequence[Body], replace: bool = False
    ) -> None:
        """Post ephemeral messages in order; only the first may replace the original."""
        hook = AsyncWebhookClient(response_url, session=self.session)
        for n, message in enumerate(messages):
            payload = {**message, "response_type": "ephemeral"}
            payload["replace_original"] = replace and n == 0
            try:
                resp = await hook.send_dict(payload)
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                log.warning("response_url failed", error=type(exc).__name__)
                return
            if resp.status_code != 200:
                log.warning("response_url refused", status=resp.status_code, body=resp.body[:100])
                return

    async def ephemeral(
        self, channel: str, user: str, notices: Sequence[View], thread_ts: str | None = None
    ) -> None:
        """Post notices with ``chat.postEphemeral`` (events have no response_url)."""
        if not notices or not channel or not user:
            return
        for message in render.private_messages(notices):
            kwargs: dict[str, Any] = {"channel": channel, "user": user, **message}
            if thread_ts:
                kwargs["thread_ts"] = thread_ts
            try:
                await self.client.chat_postEphemeral(**kwargs)
            except (SlackClientError, aiohttp.ClientError, TimeoutError, OSError) as exc:
                log.warning("ephemeral failed", error=type(exc).__name__)
                return

    async def _later(
        self,
        event: Event,
        task: asyncio.Task[Outcome],
        tell: Tell,
    ) -> None:
        """Finish an acknowledged-but-slow dispatch: tell the outcome, or apologise."""
        try:
            outcome = await task
        except Exception as exc:
            self._failed(event, exc)
            await tell([Notice(say(NOTHING_SAVED))])
            return
        await tell(outcome.notices)

    # -- listeners -----------------------------------------------------------------------

    async def on_command(self, ack: AsyncAck, body: Body) -> None:
        """``/townhall <sub> ...``: the notices travel back in the acknowledgement."""
        event = understood(lambda: translate.command_event(body))
        if event is None:
            await ack()
            return
        response_url = body.get("response_url")
        try:
            result = await self._dispatch_briefly(event)
        except Exception as exc:
            self._failed(event, exc)
            await ack(text=say(NOTHING_SAVED), response_type="ephemeral")
            return
        if isinstance(result, asyncio.Task):
            await ack(text=say(WORKING), response_type="ephemeral")
            self.spawn(self._later(event, result, lambda n: self.respond(response_url, n)))
            return
        if not result.notices:
            await ack()
            return
        first, *more = render.private_messages(result.notices)
        await ack(**first, response_type="ephemeral")
        if more and response_url:  # e.g. the moderation queue: one message per card
            self.spawn(self.respond_messages(response_url, more))

    async def on_block_action(self, ack: AsyncAck, body: Body) -> None:
        """A button: votes are dispatched; a form button opens the answer modal itself."""
        actions = body.get("actions") or []
        if not actions:
            await ack()
            return
        action = actions[0] if isinstance(actions, list) else None
        if not isinstance(action, dict):
            await ack()
            return
        event = understood(lambda: translate.action_event(body, action))
        if event is None:
            await ack()
            return
        if translate.is_form_action(action) and await self._open_form(body, action):
            await ack()
            return
        response_url = body.get("response_url")
        container = body.get("container") or {}
        from_ephemeral = bool(container.get("is_ephemeral"))
        in_modal = container.get("type") == "view" and container.get("view_id")

        async def tell(notices: Sequence[View]) -> None:
            if response_url:
                await self.respond(response_url, notices, replace=from_ephemeral)
            elif in_modal:  # e.g. "I agree" on a consent card shown in the answer modal
                await self._update_modal(str(container["view_id"]), notices)
            else:  # a home tab: no response_url
                await self.ephemeral(event.target.channel_id, event.actor.user_id, notices)

        await self._ack_then_tell(ack, event, tell)

    async def _ack_then_tell(self, ack: AsyncAck, event: Event, tell: Tell) -> None:
        """Acknowledge at once, then tell the outcome (or the apology) through ``tell``."""
        try:
            result = await self._dispatch_briefly(event)
        except Exception as exc:
            self._failed(event, exc)
            await ack()
            self.spawn(tell([Notice(say(NOTHING_SAVED))]))
            return
        await ack()
        if isinstance(result, asyncio.Task):
            self.spawn(self._later(event, result, tell))
        elif result.notices:
            self.spawn(tell(result.notices))

    async def _open_form(self, body: Body, action: Body) -> bool:
        """``views.open`` with the click's trigger_id (valid 3 s, once). False if it failed."""
        try:
            container = body.get("container") or {}
            channel = str(
                (body.get("channel") or {}).get("id") or container.get("channel_id") or ""
            )
            modal = render.answer_modal(
                str(action.get("value") or ""),
                render.question_of(body.get("message")),
                channel,
                container.get("message_ts"),
            )
        except (TypeError, AttributeError, KeyError, ValueError) as exc:  # not Slack's shape
            log.info("slack form button not understood", error=type(exc).__name__)
            return False
        try:
            await self.client.views_open(trigger_id=body.get("trigger_id"), view=modal)
        except (SlackClientError, aiohttp.ClientError, TimeoutError, OSError) as exc:
            # The core explains how to answer without a form (reply in the thread).
            log.warning("views.open failed", error=type(exc).__name__)
            return False
        return True

    async def on_submit(self, ack: AsyncAck, body: Body) -> None:
        """An answer modal: the modal itself turns into the core's answer."""
        event = understood(lambda: translate.submission_event(body))
        if event is None:
            await ack()
            return
        try:
            result = await self._dispatch_briefly(event)
        except Exception as exc:
            self._failed(event, exc)  # keep the modal (and the person's text) open
            await ack(
                response_action="errors", errors={translate.ANSWER_BLOCK: say(NOT_SAVED_SHORT)}
            )
            return
        if isinstance(result, asyncio.Task):
            await ack(response_action="update", view=render.notice_modal([Notice(say(SAVING))]))
            view_id = str((body.get("view") or {}).get("id") or "")
            self.spawn(self._later(event, result, lambda n: self._update_modal(view_id, n, event)))
            return
        if not result.notices:  # a duplicate delivery: the first one already answered
            await ack()
            return
        in_modal = self._cards_apart(event, result.notices)
        await ack(response_action="update", view=render.notice_modal(in_modal))

    def _cards_apart(self, event: Event, notices: Sequence[View]) -> list[View]:
        """A consultation's next question goes to the person as an ephemeral message where the
        form was opened, so it stays clickable once the modal is closed; the rest (a
        confirmation, a consent card) is what the modal shows."""
        cards = [n for n in notices if is_step(n)]
        if cards:
            self.spawn(self.ephemeral(event.target.channel_id, event.actor.user_id, cards))
        return [n for n in notices if n not in cards]

    async def _update_modal(
        self, view_id: str, notices: Sequence[View], event: Event | None = None
    ) -> None:
        if event is not None:
            notices = self._cards_apart(event, notices)
        if not notices or not view_id:
            return
        try:
            await self.client.views_update(view_id=view_id, view=render.notice_modal(notices))
        except (SlackClientError, aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.warning("views.update failed", error=type(exc).__name__)

    async def on_report(self, ack: AsyncAck, body: Body) -> None:
        """The "Report to moderators" message shortcut."""
        event = understood(lambda: translate.report_event(body))
        if event is None:
            await ack()
            return
        response_url = body.get("response_url")
        await self._ack_then_tell(ack, event, lambda n: self.respond(response_url, n))

    async def on_message(self, body: Body, event: Body, context: AsyncBoltContext) -> None:
        """A message event: thread replies to our items become REPLY events.

        Raises when the database is down, so bolt answers 500 and Slack delivers it again.
        """
        reply = understood(lambda: translate.reply_event(body, event, context.bot_user_id))
        if reply is None:
            return
        outcome = await self._dispatch(reply)
        if outcome.notices:
            self.spawn(
                self.ephemeral(
                    reply.target.channel_id,
                    reply.actor.user_id,
                    outcome.notices,
                    thread_ts=reply.target.thread_id,
                )
            )

    async def on_ack_only(self, ack: AsyncAck) -> None:
        await ack()

    async def on_options(self, ack: AsyncAck) -> None:
        await ack(options=[])

    async def on_error(self, error: Exception, body: Body) -> None:
        """Bolt's error hook: log the kind of failure, never the payload (it has people's words)."""
        kind = str(body.get("type") or ("slash_command" if "command" in body else "unknown"))
        log.warning("slack listener failed", payload=kind, error=type(error).__name__)


def understood(build: Callable[[], Event | None]) -> Event | None:
    """The translated event, or None for a payload of a shape Slack does not send.

    Such a payload is acknowledged and ignored (logged without its content): it is not an outage,
    so a 500 (and Slack's redelivery) would not help.
    """
    try:
        return build()
    except (TypeError, AttributeError, KeyError, ValueError, IndexError) as exc:
        log.info("slack payload not understood; ignored", error=type(exc).__name__)
        return None
