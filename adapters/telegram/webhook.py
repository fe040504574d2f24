"""Webhook mode: Telegram POSTs updates to ``/telegram/webhook`` on Townhall's HTTP server."""

from __future__ import annotations

import hmac
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson
import structlog
from aiohttp import web

from adapters.telegram import shape
from bot.config import ConfigError

log = structlog.get_logger("townhall.telegram")

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
#: What Telegram accepts as a ``secret_token`` for setWebhook.
SECRET_FORMAT = re.compile(r"[A-Za-z0-9_-]{1,256}")


class NotReady(Exception):
    """The adapter has not started yet (the HTTP server starts before the adapters)."""


class Unavailable(Exception):
    """The update could not be committed (database outage): Telegram should send it again."""


#: Handles one update; may return one Bot API method call for the webhook's response body.
Receive = Callable[[dict[str, Any]], Awaitable[dict[str, Any] | None]]


def public_url(url: str) -> str:
    """The URL given to setWebhook: as configured, or with ``/telegram/webhook`` appended when
    only a base URL (no path) was configured."""
    parts = urlsplit(url)
    if parts.path in ("", "/"):
        return urlunsplit(parts._replace(path=WEBHOOK_PATH))
    return url


def check_secret(secret: str | None) -> str:
    if not secret:
        raise ConfigError(
            "invalid configuration:\n  TOWNHALL_TELEGRAM_WEBHOOK_SECRET must be set when "
            "TOWNHALL_TELEGRAM_WEBHOOK_URL is set"
        )
    if not SECRET_FORMAT.fullmatch(secret):
        raise ConfigError(
            "invalid configuration:\n  TOWNHALL_TELEGRAM_WEBHOOK_SECRET must be 1-256 "
            "characters of A-Z, a-z, 0-9, _ and -"
        )
    return secret


class WebhookReceiver:
    """Checks the secret header and content type, then hands the JSON update on.

    Answers 200 only once ``receive`` returned (the update's effect is committed, or it was
    deliberately dropped); 500 when it could not be committed, so Telegram delivers it again;
    403 for a wrong or missing secret or a non-JSON body, with nothing processed.
    """

    def __init__(self, secret: str, receive: Receive) -> None:
        self._secret = check_secret(secret).encode()
        self._receive = receive

    async def handle(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, self._secret):
            log.warning("telegram webhook: wrong or missing secret token")
            return web.Response(status=403, text="forbidden")
        if request.content_type != "application/json":
            return web.Response(status=403, text="expected application/json")
        try:
            data = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            return web.Response(status=400, text="malformed JSON")
        if not isinstance(data, dict) or type(data.get("update_id")) is not int:
            return web.Response(status=400, text="not an update")
        wrong = shape.problem(data)
        if wrong is not None:  # Telegram would resend it forever: acknowledge and drop it
            log.info("telegram update of an unexpected shape ignored", where=wrong)
            return web.Response(status=200)
        try:
            reply = await self._receive(data)
        except NotReady:
            return web.Response(status=503, text="starting")
        except Unavailable:
            return web.Response(status=500, text="try again later")
        if reply is not None:  # e.g. answerCallbackQuery: no outbound request of our own
            return web.Response(body=orjson.dumps(reply), content_type="application/json")
        return web.Response(status=200)
