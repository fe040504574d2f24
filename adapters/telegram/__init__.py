"""Telegram: a python-telegram-bot ``Application`` that only translates.

Updates arrive by long polling (default) or, when ``TOWNHALL_TELEGRAM_WEBHOOK_URL`` is set, at
``/telegram/webhook`` on Townhall's own HTTP server. Each update is translated into one core
event (:mod:`adapters.telegram.translate`), dispatched, and acknowledged only after the core
committed it: with the notice as the ``answerCallbackQuery`` text for a button click, or as a
message replying to the person's message otherwise. Cards go out as HTML messages with an
inline keyboard (:mod:`adapters.telegram.render`); the core's outbox calls :meth:`send` and
:meth:`edit` and retries what fails (:mod:`adapters.telegram.errors`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Awaitable, Sequence
from typing import Any

import structlog
from aiohttp import web
from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes

from adapters.telegram import render, translate
from adapters.telegram.errors import (
    delivery_error,
    describe,
    ignore_retry_after_warning,
    is_not_modified,
)
from adapters.telegram.http import AiohttpRequest
from adapters.telegram.notices import Acknowledger
from adapters.telegram.ordering import KeyedLocks
from adapters.telegram.webhook import (
    WEBHOOK_PATH,
    NotReady,
    Unavailable,
    WebhookReceiver,
    check_secret,
    public_url,
)
from bot.adapter import Capabilities, Dispatch, Outcome, SendRates
from bot.config import Settings
from bot.errors import DeliveryError
from bot.events import Event, MessageRef, Target
from bot.grammar import CommandSpec, command_menu
from bot.i18n import translator_for
from bot.leases import Role, per_bot
from bot.loops import SupervisedLoop
from bot.views import View

__all__ = ["TelegramAdapter", "from_settings"]

log = structlog.get_logger("townhall.telegram")

DEFAULT_API_URL = "https://api.telegram.org/bot"
PTBApplication = Application[Any, Any, Any, Any, Any, Any]
#: How long the outbox waits for sendMessage. Generous: a timed-out send is "uncertain" and
#: is not resent automatically (it may have been posted), so waiting longer avoids that.
SEND_TIMEOUT = 60.0
STOP_GRACE = 10.0  # seconds stop() lets fetched updates finish


def from_settings(settings: Settings, commands: Sequence[CommandSpec] = ()) -> TelegramAdapter:
    """Called by ``townhall run`` when ``TOWNHALL_TELEGRAM_TOKEN`` is set; ``commands`` are the
    core's, for the command menu."""
    assert settings.telegram_token is not None
    secret = settings.telegram_webhook_secret
    return TelegramAdapter(
        settings.telegram_token.get_secret_value(),
        api_url=settings.telegram_api_url,
        webhook_url=settings.telegram_webhook_url or None,
        webhook_secret=secret.get_secret_value() if secret is not None else None,
        commands=commands,
    )


class TelegramAdapter:
    """The Telegram side of Townhall (see the module docstring)."""

    name = translate.PLATFORM
    #: Cards stay out of groups (``private_cards``): results hold people's answers from every
    #: platform, and consent, personal data and moderation cards are for one person.
    capabilities = Capabilities(
        modals=False,
        threads=True,
        max_text=4096,
        private_cards=True,
        # The Bot API's limits: about 30 messages a second overall, one a second in a private
        # chat, 20 a minute in a group (group and channel ids are negative).
        send_rates=SendRates(
            overall="30/second", per_chat="1/second", per_group="20/minute", group_prefix="-"
        ),
    )

    def __init__(
        self,
        token: str,
        *,
        api_url: str = DEFAULT_API_URL,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        poll_timeout: float = 25.0,
        concurrency: int = 32,
        retry_delays: Sequence[float] = (0.5, 1.0, 2.0, 4.0, 8.0),
        send_timeout: float = SEND_TIMEOUT,
        commands: Sequence[CommandSpec] = (),
    ) -> None:
        """``retry_delays``: in polling mode Telegram will not send an update again once the
        next getUpdates confirmed it, so a dispatch that fails (database outage) is retried
        here, after these pauses, before the person is told it did not work. ``commands``: the
        core's command specs; the command menu (``setMyCommands``) is made from them."""
        self._token = token
        self._menu = command_menu(commands)
        self._api_url = api_url
        self._webhook_url = public_url(webhook_url) if webhook_url else None
        self._receiver = (
            WebhookReceiver(check_secret(webhook_secret), self._on_webhook_update)
            if self._webhook_url
            else None
        )
        self._webhook_secret = webhook_secret
        self._poll_timeout = poll_timeout
        self._concurrency = concurrency
        self._retry_delays = tuple(retry_delays)
        self.send_timeout = send_timeout
        self._app: PTBApplication | None = None
        self._dispatch: Dispatch | None = None
        self._me: translate.BotIdentity | None = None
        self._acks: Acknowledger | None = None
        self._locks = KeyedLocks()
        self._poller: SupervisedLoop | None = None
        self._offset: int | None = None
        self._batch: asyncio.Future[list[bool]] | None = None

    @property
    def webhook_mode(self) -> bool:
        return self._receiver is not None

    # -- lifecycle ------------------------------------------------------------------------
    def http_routes(self) -> list[web.RouteDef]:
        if self._receiver is None:
            return []
        return [web.post(WEBHOOK_PATH, self._receiver.handle)]

    @property
    def connected(self) -> bool:
        app = self._app
        if app is None or self._dispatch is None:
            return False
        # Polling runs in one worker only (its lease); the others are connected for sending.
        return self.webhook_mode or self._poller is None or self._poller.status().ok

    def roles(self) -> list[Role]:
        """Long polling: one getUpdates consumer per bot, so one worker at a time (a lease)."""
        if self.webhook_mode:
            return []
        name = per_bot("telegram-polling", f"{self._api_url} {self._token}")
        return [Role(name, self._start_polling, self._stop_polling)]

    async def _start_polling(self) -> None:
        if self._app is None or self._poller is not None:
            return
        self._offset = None  # confirmed from Telegram's side: it resends what was not
        self._poller = SupervisedLoop("telegram-polling", self._poll_once)
        self._poller.start()

    async def _stop_polling(self) -> None:
        """Stop fetching and finish the updates already fetched (confirmed by the next
        getUpdates, whichever worker makes it)."""
        poller, self._poller = self._poller, None
        if poller is not None:
            await poller.stop()
        batch, self._batch = self._batch, None
        if batch is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(batch), timeout=STOP_GRACE)

    async def start(self, dispatch: Dispatch) -> None:
        ignore_retry_after_warning()
        builder = (
            ApplicationBuilder()
            .token(self._token)
            .base_url(self._api_url)
            .base_file_url(_file_url(self._api_url))
            .concurrent_updates(self._concurrency)
        )
        # One aiohttp session for every Bot API call (adapters/telegram/http.py).
        transport = AiohttpRequest()
        builder = builder.request(transport).get_updates_request(transport)
        builder = builder.updater(None)  # polling is our own loop (see _poll_once)
        app = builder.build()
        try:
            await app.initialize()  # getMe
        except TelegramError as exc:
            await app.bot.shutdown()  # a failed initialize() leaves PTB's HTTP clients open
            raise RuntimeError(
                f"Telegram adapter could not start: getMe failed ({type(exc).__name__}); check "
                "TOWNHALL_TELEGRAM_TOKEN and TOWNHALL_TELEGRAM_API_URL"
            ) from None
        self._me = translate.BotIdentity(app.bot.id, app.bot.username)
        self._acks = Acknowledger(app.bot, self.capabilities)
        self._dispatch = dispatch
        app.add_error_handler(self._on_error)
        try:
            await self._set_commands(app)
            await app.start()
            self._app = app  # from here on webhook requests are served
            if self._webhook_url is not None:
                await app.bot.set_webhook(
                    self._webhook_url,
                    secret_token=self._webhook_secret,
                    allowed_updates=list(translate.ALLOWED_UPDATES),
                )
            else:
                await app.bot.delete_webhook()  # polling starts with its lease (roles())
        except TelegramError as exc:
            self._app = app
            await self.stop()
            raise RuntimeError(f"Telegram adapter could not start: {describe(exc)}") from None
        log.info("telegram adapter started", mode="webhook" if self.webhook_mode else "polling")

    async def stop(self) -> None:
        """Stop fetching, finish the updates already fetched, close the HTTP clients.

        The webhook is left registered: other workers may serve it, and Telegram keeps
        updates for us while we are away.
        """
        await self._stop_polling()
        app, self._app = self._app, None
        if app is not None:
            await self._shutdown(app)
        self._dispatch = self._me = self._acks = None

    @staticmethod
    async def _shutdown(app: PTBApplication) -> None:
        if app.running:
            await app.stop()
        await app.shutdown()

    async def _set_commands(self, app: PTBApplication) -> None:
        if not self._menu:
            return
        commands = [BotCommand(name, text) for name, text in self._menu]
        try:
            await app.bot.set_my_commands(commands)
        except TelegramError as exc:  # the menu is a convenience; commands work without it
            log.warning("telegram setMyCommands failed", error=describe(exc))

    # -- outgoing (called by the core's outbox) --------------------------------------------
    async def send(
        self, target: Target, view: View, *, reply_to: str | None = None, key: str | None = None
    ) -> MessageRef:
        # ``key`` is not used: the Bot API has no idempotency key and no way to look a sent
        # message up, so a timed-out send is reported as uncertain instead (see errors.py).
        if self._acks is None:
            raise DeliveryError("telegram adapter is not running")
        try:
            message = await self._acks.post(
                chat_id=chat_id(target.channel_id),
                payload=render.payload(view, start_links=self._start_links(target)),
                thread_id=int(target.thread_id) if target.thread_id else None,
                reply_to=int(reply_to) if reply_to else None,
                answer_within=self.send_timeout,
            )
        except TelegramError as exc:
            raise delivery_error(exc, posting=True) from None
        return MessageRef(
            self.name, str(message.chat_id), str(message.message_id), target.thread_id
        )

    def _start_links(self, target: Target) -> str | None:
        """In a group, a consultation's Start is a deep link to the bot's private chat."""
        private = target.private or not target.channel_id.startswith("-")
        return None if private or self._me is None else self._me.username

    async def edit(self, ref: MessageRef, view: View) -> None:
        if self._app is None:
            raise DeliveryError("telegram adapter is not running")
        payload = render.payload(view)
        try:
            await self._app.bot.edit_message_text(
                payload.text,
                chat_id=chat_id(ref.channel_id),
                message_id=int(ref.message_id),
                parse_mode=payload.parse_mode,
                reply_markup=payload.keyboard,  # none: Telegram removes the keyboard
                link_preview_options=render.NO_PREVIEW,
            )
        except TelegramError as exc:
            if is_not_modified(exc):
                return
            raise delivery_error(exc) from None

    async def channel_name(self, target: Target) -> str | None:
        """The group's or channel's title (getChat); a private chat has none to show."""
        if self._app is None or target.private:
            return None
        chat = await self._app.bot.get_chat(chat_id(target.channel_id))
        return chat.title or (f"@{chat.username}" if chat.username else None)

    # -- incoming ------------------------------------------------------------------------
    async def _poll_once(self) -> float:
        """One getUpdates and the processing of what it brought.

        The offset (which confirms updates to Telegram) only moves past updates whose effect
        committed: if one could not be (database outage), the offset stays at it, the loop
        backs off, and Telegram hands it (and the ones after it, deduplicated) over again.
        """
        app = self._app
        if app is None:
            return 1.0
        updates = await app.bot.get_updates(
            offset=self._offset,
            timeout=dt.timedelta(seconds=self._poll_timeout),
            allowed_updates=list(translate.ALLOWED_UPDATES),
        )
        if not updates:
            return 0.0
        self._batch = asyncio.ensure_future(
            asyncio.gather(*(self._process_polled(u) for u in updates))
        )
        committed = await asyncio.shield(self._batch)
        self._batch = None
        failed = [u.update_id for u, ok in zip(updates, committed, strict=True) if not ok]
        self._offset = min(failed) if failed else max(u.update_id for u in updates) + 1
        if failed:
            raise Unavailable  # the supervised loop waits, then fetches them again
        return 0.0

    async def _process_polled(self, update: Update) -> bool:
        """False when the update must be fetched again (its effect did not commit)."""
        try:
            await self._process(update, retry=True)
        except (Unavailable, NotReady):
            return False
        except Exception as exc:  # a bug for this update: logged, not fetched forever
            log.error("telegram update failed", error=type(exc).__name__, exc_info=True)
        return True

    async def _on_webhook_update(self, data: dict[str, Any]) -> dict[str, Any] | None:
        if self._app is None or self._me is None:
            raise NotReady
        click = translate.vote_click(data)
        if click is not None:
            return await self._vote_click(click, data)
        try:
            update = Update.de_json(data, self._app.bot)
        except Exception as exc:  # an update this library version cannot read: drop it
            log.warning("telegram update could not be read; dropped", error=type(exc).__name__)
            return None
        await self._process(update, retry=False)
        return None

    async def _vote_click(self, event: Event, data: dict[str, Any]) -> dict[str, Any] | None:
        """A vote click, read without building PTB's Update: dispatched like any event, then
        answered in the webhook's response body (answerCallbackQuery), after sending privately
        what does not fit in the toast (e.g. the privacy notice with a first vote).
        """
        dispatch, acks, app = self._dispatch, self._acks, self._app
        if dispatch is None or acks is None or app is None:
            raise NotReady
        async with self._locks.hold(event.actor.user_id):
            try:
                outcome = await self._dispatch_event(dispatch, event, retry=False)
            except Exception:
                await acks.apologise(Update.de_json(data, app.bot), event, will_retry=True)
                raise Unavailable from None
        if outcome.duplicate:
            return None
        reply: dict[str, Any] = {
            "method": "answerCallbackQuery",
            "callback_query_id": data["callback_query"]["id"],
        }
        answer = await acks.click_toast(event, outcome.notices, translator_for(outcome.language))
        if answer:
            reply["text"] = answer
        return reply

    async def _process(self, update: Update, *, retry: bool) -> None:
        """Translate, dispatch (one person's updates in order), then acknowledge.

        Raises :class:`Unavailable` when the event could not be committed.
        """
        dispatch, me, acks = self._dispatch, self._me, self._acks
        if dispatch is None or me is None or acks is None:
            raise NotReady
        try:
            event = translate.to_event(update, me)
        except Exception as exc:  # a field of a type Telegram never sends: nothing to do
            log.info("telegram update not understood; ignored", error=type(exc).__name__)
            return
        if event is None:
            await self._quietly(acks.dismiss(update))  # e.g. a stray callback: stop the spinner
            return
        async with self._locks.hold(event.actor.user_id):
            try:
                outcome = await self._dispatch_event(dispatch, event, retry=retry)
            except Exception:
                # Both modes get it again (webhook: Telegram resends; polling: the offset
                # stays), so a message is not apologised for, only a click's spinner stopped.
                await acks.apologise(update, event, will_retry=True)
                raise Unavailable from None
        await self._quietly(acks.acknowledge(update, event, outcome))

    @staticmethod
    async def _quietly(call: Awaitable[None]) -> None:
        """The effect is committed (or there was none): a failed acknowledgement changes nothing."""
        try:
            await call
        except Exception as exc:
            log.warning("telegram acknowledgement failed", error=type(exc).__name__)

    async def _dispatch_event(self, dispatch: Dispatch, event: Event, *, retry: bool) -> Outcome:
        delays = self._retry_delays if retry else ()
        for attempt, delay in enumerate((*delays, None), start=1):
            try:
                return await dispatch(event)
            except Exception as exc:
                if delay is None:
                    log.error(
                        "telegram update not committed",
                        kind=event.kind.value,
                        attempts=attempt,
                        error=type(exc).__name__,
                    )
                    raise
                log.warning(
                    "telegram update not committed yet; retrying",
                    kind=event.kind.value,
                    attempt=attempt,
                    retry_in=delay,
                    error=type(exc).__name__,
                )
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _on_error(self, _update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error
        log.error(
            "telegram handler error",
            error=type(error).__name__,
            exc_info=(type(error), error, error.__traceback__) if error is not None else None,
        )


def chat_id(channel_id: str) -> int | str:
    """Our channel ids are ``str(chat.id)``; an ``@channelusername`` also works."""
    return int(channel_id) if channel_id.lstrip("-").isdigit() else channel_id


def _file_url(api_url: str) -> str:
    """``https://api.telegram.org/bot`` -> ``https://api.telegram.org/file/bot`` (same for a
    self-hosted Bot API server)."""
    base = api_url.rstrip("/")
    if base.endswith("/bot"):
        return base[: -len("bot")] + "file/bot"
    return base + "/file/bot"
