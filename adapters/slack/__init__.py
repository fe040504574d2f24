"""The Slack adapter: a slack-bolt ``AsyncApp`` on Townhall's own HTTP server (or Socket Mode).

Inbound: slash commands, button clicks, modal submissions, the report shortcut and thread
replies arrive at ``/slack/events`` (signatures always verified by bolt) and become core events
(``listeners.py``, ``translate.py``). Outbound: the outbox calls :meth:`SlackAdapter.send` and
:meth:`SlackAdapter.edit`, which post and update Block Kit messages (``render.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import time
from collections.abc import Coroutine, Sequence
from typing import Any

import aiohttp
import structlog
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import render, shape, translate
from adapters.slack.errors import delivery_error
from adapters.slack.listeners import Inbound
from adapters.slack.translate import PLATFORM
from bot.adapter import Capabilities, Dispatch
from bot.config import Settings
from bot.errors import DeliveryError
from bot.events import MessageRef, Target
from bot.grammar import CommandSpec
from bot.inputs import parse_int
from bot.views import View

log = structlog.get_logger("townhall.slack")

EVENTS_PATH = "/slack/events"
DEFAULT_API_URL = "https://slack.com/api/"
#: Slack wants interactions acknowledged within 3 s; leave room for the network.
ACK_BUDGET = 2.0
STOP_GRACE = 5.0
SIGNATURE_MAX_AGE = 300  # seconds, as Slack and bolt allow
_NETWORK_ERRORS = (SlackClientError, aiohttp.ClientError, TimeoutError, OSError)
#: Slack message metadata type naming the outbox key of a message we posted.
METADATA_EVENT = "townhall_outbox"


class SlackAdapter:
    """Translate Slack payloads into events and views into Web API calls; nothing else."""

    name = PLATFORM
    capabilities: Capabilities = translate.CAPABILITIES

    def __init__(
        self,
        *,
        bot_token: str,
        signing_secret: str,
        api_url: str = DEFAULT_API_URL,
        app_token: str | None = None,
        ack_budget: float = ACK_BUDGET,
        timeout: float = 10.0,
    ) -> None:
        base_url = api_url if api_url.endswith("/") else api_url + "/"
        self.timeout = timeout
        # The outbox's client: a rate limit becomes DeliveryError(retry_after) and the outbox
        # waits, instead of a worker sleeping inside the call.
        self.web = AsyncWebClient(token=bot_token, base_url=base_url, timeout=int(timeout))
        # Calls on the acknowledgement path (views.open, chat.postEphemeral) may wait once.
        interactive = AsyncWebClient(
            token=bot_token,
            base_url=base_url,
            timeout=int(timeout),
            retry_handlers=[
                AsyncConnectionErrorRetryHandler(),
                AsyncRateLimitErrorRetryHandler(max_retry_count=1),
            ],
        )
        self.bolt = AsyncApp(
            client=interactive,
            signing_secret=signing_secret,
            process_before_response=True,  # ack after the commit; see listeners.py
            logger=logging.getLogger("townhall.slack.bolt"),
            name="townhall",
        )
        self.interactive = interactive
        self._signing_secret = signing_secret.encode()
        self.inbound = Inbound(interactive, ack_budget=ack_budget, spawn=self._spawn)
        self.inbound.register(self.bolt)
        self._session: aiohttp.ClientSession | None = None
        self.app_token = app_token
        self._socket: Any = None
        self._socket_task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None

    # -- lifecycle -----------------------------------------------------------------------

    def http_routes(self) -> list[web.RouteDef]:
        """Events, slash commands, interactivity and options all arrive at one URL."""
        if self.socket_mode:
            return []
        return [web.post(EVENTS_PATH, self.handle_http)]

    async def handle_http(self, request: web.Request) -> web.StreamResponse:
        """Check the signature first, then let bolt parse and dispatch.

        Bolt parses the body before verifying it and fails on a non-numeric timestamp or a
        payload of an odd shape; such requests are refused with 401/400, never a 500.
        """
        body = await request.read()
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if not self._signed(body, timestamp, signature):
            log.info("slack request refused: bad or missing signature")
            return web.json_response({"error": "invalid request"}, status=401)
        wrong = shape.problem(body, request.content_type)
        if wrong is not None:
            log.info("slack request of an unexpected shape refused", where=wrong)
            return web.json_response({"error": "malformed request"}, status=400)
        try:
            bolt_request = await to_bolt_request(request)
            bolt_response = await self.bolt.async_dispatch(bolt_request)
        except Exception as exc:  # signed, but not a payload Slack sends
            log.warning("slack request not understood; refused", error=type(exc).__name__)
            return web.json_response({"error": "malformed request"}, status=400)
        return await to_aiohttp_response(bolt_response)

    @property
    def connected(self) -> bool:
        if self.inbound.dispatch is None:
            return False
        task = self._socket_task  # Socket Mode: connecting failed for good if it ended so
        return (
            task is None or not task.done() or (not task.cancelled() and task.exception() is None)
        )

    def _signed(self, body: bytes, timestamp: str, signature: str) -> bool:
        """Slack's v0 signature over the raw bytes, from a recent, numeric timestamp."""
        sent = parse_int(timestamp)
        if sent is None or abs(time.time() - sent) > SIGNATURE_MAX_AGE:
            return False
        base = b"v0:" + timestamp.encode() + b":" + body
        expected = "v0=" + hmac.new(self._signing_secret, base, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))

    async def start(self, dispatch: Dispatch) -> None:
        self.inbound.dispatch = dispatch
        # One connection pool for every Web API call while running (slack_sdk otherwise opens
        # a new connection, TLS handshake included, per call).
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        self.web.session = self.interactive.session = self.inbound.session = self._session
        if self.app_token is not None:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            self._socket = AsyncSocketModeHandler(self.bolt, self.app_token)
            # connect() retries until Slack answers; do not hold up the rest of Townhall.
            self._socket_task = asyncio.create_task(
                self._socket.connect_async(), name="slack-socket-mode"
            )
        log.info("slack adapter started", mode="socket" if self.socket_mode else "http")

    async def stop(self) -> None:
        self.inbound.dispatch = None
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        if self._socket_task is not None:
            self._socket_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._socket_task
            self._socket_task = None
        if self._background:
            _, pending = await asyncio.wait(set(self._background), timeout=STOP_GRACE)
            for task in pending:
                task.cancel()
        if self._session is not None:
            self.web.session = self.interactive.session = self.inbound.session = None
            await self._session.close()
            self._session = None

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run Slack calls that follow an acknowledgement; kept so stop() can finish them."""
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def settle(self, within: float = 5.0) -> None:
        """Wait for the follow-up calls now in flight (ephemeral confirmations, ...)."""
        if self._background:
            await asyncio.wait(set(self._background), timeout=within)

    # -- outbound ------------------------------------------------------------------------

    async def send(
        self, target: Target, view: View, *, reply_to: str | None = None, key: str | None = None
    ) -> MessageRef:
        """Post a message. A private target's channel_id is a user id: Slack then delivers it
        in the app's direct messages with that person (and answers with the DM's channel)."""
        thread_ts = reply_to or target.thread_id
        kwargs: dict[str, Any] = {"channel": target.channel_id, **render.message(view)}
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        if key:  # found again by a look-up if the answer to this post never arrives
            kwargs["metadata"] = {"event_type": METADATA_EVENT, "event_payload": {"key": key}}
        try:
            response = await self.web.chat_postMessage(
                **kwargs, unfurl_links=False, unfurl_media=False
            )
        except TimeoutError as exc:
            # Slack has no idempotency key, but a message carries our metadata: look for it
            # before anything is sent again.
            found = await self._posted(target, thread_ts, key) if key else None
            if found is not None:
                log.info("slack post timed out but had arrived", outcome="reconciled")
                return found
            raise DeliveryError("slack: chat.postMessage timed out", uncertain=True) from exc
        except _NETWORK_ERRORS as exc:
            raise delivery_error(exc) from exc
        channel = str(response.get("channel") or target.channel_id)
        return MessageRef(PLATFORM, channel, str(response["ts"]), thread_ts)

    async def channel_name(self, target: Target) -> str | None:
        """``#name`` from conversations.info (needs channels:read / groups:read)."""
        if target.private:
            return None
        response = await self.web.conversations_info(channel=target.channel_id)
        channel = response.get("channel") or {}
        if channel.get("is_im") or not channel.get("name"):
            return None
        return f"#{channel['name']}"

    async def _posted(self, target: Target, thread_ts: str | None, key: str) -> MessageRef | None:
        """The message posted with ``key`` in its metadata, if the channel shows it.

        Raises :class:`DeliveryError` (transient) when the look-up itself shows it is not
        there, so the outbox may safely post again; returns None when it cannot tell (a direct
        message, or the look-up failed): the send is then uncertain and not repeated.
        """
        if target.private:
            return None
        try:
            if thread_ts:
                found = await self.web.conversations_replies(
                    channel=target.channel_id, ts=thread_ts, limit=100, include_all_metadata=True
                )
            else:
                found = await self.web.conversations_history(
                    channel=target.channel_id, limit=100, include_all_metadata=True
                )
        except _NETWORK_ERRORS:
            return None
        for message in found.get("messages") or []:
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if payload.get("key") == key:
                return MessageRef(PLATFORM, target.channel_id, str(message["ts"]), thread_ts)
        raise DeliveryError("slack: chat.postMessage timed out and the message is not there")

    async def edit(self, ref: MessageRef, view: View) -> None:
        try:
            await self.web.chat_update(
                channel=ref.channel_id, ts=ref.message_id, **render.message(view)
            )
        except _NETWORK_ERRORS as exc:
            raise delivery_error(exc) from exc


def from_settings(settings: Settings, commands: Sequence[CommandSpec] = ()) -> SlackAdapter:
    """Called by ``townhall run`` when the bot token and signing secret are set.

    ``commands``: the core's. Slack's usage hint is in manifest.yml; tests/test_command_menus.py
    checks it against these, so nothing is built from them here."""
    if settings.slack_bot_token is None or settings.slack_signing_secret is None:
        raise ValueError("TOWNHALL_SLACK_BOT_TOKEN and TOWNHALL_SLACK_SIGNING_SECRET are required")
    return SlackAdapter(
        bot_token=settings.slack_bot_token.get_secret_value(),
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        api_url=settings.slack_api_url,
        app_token=(
            settings.slack_app_token.get_secret_value() if settings.slack_app_token else None
        ),
    )


__all__ = ["EVENTS_PATH", "SlackAdapter", "from_settings"]
