"""Is this signed request shaped like what Slack sends, in the parts bolt and Townhall read?

Bolt reads ``body["event"]["type"]``, ``payload["user"]["id"]`` and the like without checking
types, so an odd shape fails deep inside it (and bolt answers 500, asking for a redelivery that
would fail again). Checked here first, such a request is refused with 400.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

#: Keys that, when present, must hold an object (``OBJECTS``), a list of objects (``LISTS``),
#: or text (``TEXTS``), at the top of a payload.
OBJECTS = ("event", "user", "channel", "team", "enterprise", "view", "message", "container")
LISTS = ("actions", "authorizations")
TEXTS = (
    "type",
    "command",
    "text",
    "user_id",
    "channel_id",
    "team_id",
    "response_url",
    "trigger_id",
    "callback_id",
    "api_app_id",
    "event_id",
)
#: Inside ``event``, ``user``, ``view``, ``message`` ...: text ids where present.
INNER_TEXTS = ("type", "subtype", "id", "user", "channel", "text", "ts", "thread_ts", "callback_id")

#: In each of ``actions``: text where present (bolt and Townhall read these).
ACTION_TEXTS = ("block_id", "type", "value", "action_ts")


def problem(body: bytes, content_type: str) -> str | None:
    """What is wrong with the body (no content), or None when it looks like Slack's."""
    try:
        text = body.decode("utf-8")
        if content_type == "application/json":
            payload: Any = json.loads(text)
        else:
            form = dict(urllib.parse.parse_qsl(text, keep_blank_values=True))
            payload = json.loads(form["payload"]) if "payload" in form else form
    except (UnicodeDecodeError, ValueError, RecursionError):
        return "not JSON or a form"
    return _payload(payload)


def _payload(payload: Any) -> str | None:
    if not isinstance(payload, dict):
        return "not an object"
    for key in OBJECTS:
        if key in payload and payload[key] is not None:
            if not isinstance(payload[key], dict):
                return f"{key}: not an object"
            inner = payload[key]
            for name in INNER_TEXTS:
                if name in inner and inner[name] is not None and not isinstance(inner[name], str):
                    return f"{key}.{name}: not text"
    for key in LISTS:
        if key in payload and payload[key] is not None:
            value = payload[key]
            if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                return f"{key}: not a list of objects"
    for action in payload.get("actions") or ():
        if not isinstance(action.get("action_id"), str):  # bolt's matchers index it
            return "actions: an action without an action_id"
        for name in ACTION_TEXTS:
            if action.get(name) is not None and not isinstance(action[name], str):
                return f"actions.{name}: not text"
    for key in TEXTS:
        if key in payload and payload[key] is not None and not isinstance(payload[key], str):
            return f"{key}: not text"
    return None
