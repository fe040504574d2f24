"""What a click looks like on each platform, as complete HTTP/1.1 requests (for bench/ingest.py).

Every request carries a unique event id and a unique person, so each acknowledged request must
become exactly one vote row. The same bytes go to Townhall and to the baselines, which parse
them with :func:`parse` (the baselines' whole understanding of a platform).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode

import orjson
from itsdangerous import URLSafeTimedSerializer

TELEGRAM_TOKEN = "123456:bench-token"
TELEGRAM_SECRET = "bench-webhook-secret"
SLACK_SIGNING_SECRET = "bench-signing-secret"
SECRET_KEY = "bench-secret-key-0123456789-0123456789"
TELEGRAM_CHAT = -1001000000001
SLACK_CHANNEL = "C0BENCH01"
BOT_ID = 424242

#: (path, expected status) per platform.
ENDPOINTS = {
    "telegram": ("/telegram/webhook", 200),
    "slack": ("/slack/events", 200),
    "web": ("/c/{item}", 303),
}


@dataclass
class Click:
    """One vote as the baselines see it."""

    event_id: str
    user_id: str
    option: int


def _request(path: str, body: bytes, headers: dict[str, str]) -> bytes:
    head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def telegram(item: str, n: int, options: int) -> bytes:
    """A ``callback_query`` update (about 1.1 KB, as Telegram sends it) for person ``n``."""
    position = 1 + n % options
    user = 5_000_000_000 + n
    keyboard = [
        [{"text": label, "callback_data": f"vote:{item}:{i + 1}"}]
        for i, label in enumerate(["Yes, build it", "No, keep the park", "Not sure yet"][:options])
    ]
    update = {
        "update_id": 100_000_000 + n,
        "callback_query": {
            "id": str(4_000_000_000_000_000 + n),
            "from": {
                "id": user,
                "is_bot": False,
                "first_name": "Voter",
                "last_name": f"N{n}",
                "username": f"voter{n}",
                "language_code": "en",
            },
            "message": {
                "message_id": 77,
                "from": {
                    "id": BOT_ID,
                    "is_bot": True,
                    "first_name": "Townhall",
                    "username": "townhall_bench_bot",
                },
                "chat": {"id": TELEGRAM_CHAT, "title": "Town square", "type": "supergroup"},
                "date": 1_765_000_000,
                "text": "Should the council build a new library on the old park site?\n\n"
                "Yes, build it ▓▓▓▓░░░░ 50%\nNo, keep the park ▓▓░░░░░░ 25%\n"
                "Not sure yet ▓▓░░░░░░ 25%\n\nTap a button to vote. Closes Friday 17:00.",
                "reply_markup": {"inline_keyboard": keyboard},
            },
            "chat_instance": "-8812345678901234567",
            "data": f"vote:{item}:{position}",
        },
    }
    body = orjson.dumps(update)
    return _request(
        "/telegram/webhook",
        body,
        {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
    )


def slack(item: str, n: int, options: int, api_base: str) -> bytes:
    """A signed ``block_actions`` interaction (form-encoded ``payload``) for person ``n``."""
    position = 1 + n % options
    payload = {
        "type": "block_actions",
        "team": {"id": "T0BENCH", "domain": "bench"},
        "user": {"id": f"U{n:09d}", "username": f"voter{n}", "name": f"voter{n}"},
        "api_app_id": "A0BENCH",
        "token": "verification-token-unused",
        "container": {
            "type": "message",
            "message_ts": "1765000000.000100",
            "channel_id": SLACK_CHANNEL,
            "is_ephemeral": False,
        },
        "trigger_id": f"{n}.1234567890.{n:032x}",
        "channel": {"id": SLACK_CHANNEL, "name": "town-square"},
        "message": {"type": "message", "ts": "1765000000.000100", "text": "Poll"},
        "response_url": f"{api_base}response/{n}",
        "actions": [
            {
                "type": "button",
                "action_id": f"vote-{position}",
                "block_id": "options",
                "text": {"type": "plain_text", "text": f"Option {position}"},
                "value": f"vote:{item}:{position}",
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    body = urlencode({"payload": orjson.dumps(payload).decode()}).encode()
    ts = str(int(time.time()))
    base = b"v0:" + ts.encode() + b":" + body
    signature = "v0=" + hmac.new(SLACK_SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()
    return _request(
        "/slack/events",
        body,
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
        },
    )


_serializer = URLSafeTimedSerializer(SECRET_KEY, salt="townhall.webchat.visitor")
_csrf_key = hashlib.sha256(b"townhall.webchat.csrf:" + SECRET_KEY.encode()).digest()


def web(item: str, n: int, options: int) -> bytes:
    """A web chat vote form from a visitor who has seen the page (signed cookie, CSRF token)."""
    visitor = f"bench-visitor-{n:012d}"
    cookie = _serializer.dumps({"v": visitor, "f": []})
    csrf = hmac.new(_csrf_key, visitor.encode(), hashlib.sha256).hexdigest()
    form = {"csrf": csrf, "sub": f"benchsub{n:016d}", "intent": "vote", "choice": 1 + n % options}
    return _request(
        f"/c/{item}",
        urlencode(form).encode(),
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"townhall_chat={cookie}",
        },
    )


def builder(platform: str, item: str, options: int, api_base: str) -> Callable[[int], bytes]:
    if platform == "telegram":
        return lambda n: telegram(item, n, options)
    if platform == "slack":
        return lambda n: slack(item, n, options, api_base)
    if platform == "web":
        return lambda n: web(item, n, options)
    raise ValueError(platform)


def parse(platform: str, body: bytes, headers: Any) -> Click:
    """What a baseline server takes from a request: event id, person, option."""
    if platform == "telegram":
        update = orjson.loads(body)
        query = update["callback_query"]
        return Click(
            str(update["update_id"]),
            str(query["from"]["id"]),
            int(query["data"].rsplit(":", 1)[1]),
        )
    if platform == "slack":
        payload = orjson.loads(parse_qs(body.decode())["payload"][0])
        action = payload["actions"][0]
        return Click(
            payload["trigger_id"], payload["user"]["id"], int(action["value"].rsplit(":", 1)[1])
        )
    if platform == "web":
        form = parse_qs(body.decode())
        cookie = headers.get("Cookie", "").partition("=")[2]
        visitor = str(_serializer.loads(cookie)["v"])
        return Click(form["sub"][0], visitor, int(form["choice"][0]))
    raise ValueError(platform)
