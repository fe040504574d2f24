"""A fast fake of the platform Web APIs Townhall calls while taking votes (bench/ingest.py).

Telegram Bot API (``/bot<token>/<method>``) and Slack Web API (``/api/<method>`` and interaction
``response_url``\\s under ``/api/response/``): every call is answered at once with a plausible
success and counted by method. Nothing is validated: the test fakes in tests/fakes/ do that;
this one only has to be cheap so that it does not limit what it measures.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from typing import Any

import orjson
from aiohttp import web
from ingest_payloads import BOT_ID, TELEGRAM_CHAT

_BOT_USER = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "Townhall",
    "username": "townhall_bench_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


class FakeAPI:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self._ids = itertools.count(1000)
        self._runner: web.AppRunner | None = None
        self.port = 0

    def _json(self, data: Any) -> web.Response:
        return web.Response(body=orjson.dumps(data), content_type="application/json")

    def _message(self) -> dict[str, Any]:
        return {
            "message_id": next(self._ids),
            "from": _BOT_USER,
            "chat": {"id": TELEGRAM_CHAT, "title": "Town square", "type": "supergroup"},
            "date": int(time.time()),
            "text": "card",
        }

    async def telegram(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self.calls[f"telegram.{method}"] += 1
        await request.read()
        result: Any = True
        if method == "getMe":
            result = _BOT_USER
        elif method in ("sendMessage", "editMessageText", "editMessageReplyMarkup"):
            result = self._message()
        elif method == "getWebhookInfo":
            result = {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        return self._json({"ok": True, "result": result})

    async def slack(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self.calls[f"slack.{method}"] += 1
        await request.read()
        data: dict[str, Any] = {"ok": True}
        if method == "auth.test":
            data.update(
                url="https://bench.slack.com/",
                team="Bench",
                user="townhall",
                team_id="T0BENCH",
                user_id="U0BOT",
                bot_id="B0BOT",
            )
        elif method in ("chat.postMessage", "chat.update"):
            data.update(channel="C0BENCH01", ts=f"{time.time():.6f}", message={"text": "card"})
        elif method == "chat.postEphemeral":
            data.update(message_ts=f"{time.time():.6f}")
        return self._json(data)

    async def slack_response(self, request: web.Request) -> web.Response:
        self.calls["slack.response_url"] += 1
        await request.read()
        return web.Response(text="ok")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self.telegram)
        app.router.add_get("/bot{token}/{method}", self.telegram)
        app.router.add_post("/api/response/{n}", self.slack_response)
        app.router.add_post("/api/{method}", self.slack)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
