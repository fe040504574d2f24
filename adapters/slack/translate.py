"""Slack payloads -> core events: pure functions, no I/O.

Event ids must be stable across a redelivery of the same payload (the core drops a second
``(platform, event_id)``) and must not contain the raw Slack user id: the processed-events
ledger is not erased with a person, so their id must not end up there.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from bot.adapter import Capabilities, SendRates
from bot.events import Actor, Event, EventKind, Target

PLATFORM = "slack"
#: An element or modal callback id starting with this opens / belongs to a free-text form.
FORM_PREFIX = "form:"
#: What Slack offers the core (``SlackAdapter.capabilities``): the notice planner and the
#: form-or-prompt decision read it.
CAPABILITIES = Capabilities(
    buttons=True,
    modals=True,
    threads=True,
    ephemeral=True,
    edits=True,
    max_text=3000,
    # chat.postMessage: about one message a second per channel (Slack's "special" tier);
    # chat.update is Tier 3 (50 a minute).
    send_rates=SendRates(per_chat="1/second", overall="50/minute"),
)
#: The message shortcut "Report to moderators" (see manifest.yml).
REPORT_CALLBACK = "report"
#: The modal's input: block id and action id.
ANSWER_BLOCK = "answer"
ANSWER_INPUT = "text"

MAX_EVENT_ID = 200  # processed_events.event_id column
#: Message subtypes that are a person writing something new (everything else is ignored).
_WRITTEN_SUBTYPES = (None, "thread_broadcast", "file_share")
_LINK_WITH_LABEL = re.compile(r"<((?:https?|mailto):[^|>]+)\|([^>]+)>")
_BARE_LINK = re.compile(r"<((?:https?|mailto):[^>]+)>")

JSON = Mapping[str, Any]


def stable_id(kind: str, *parts: str) -> str:
    """``kind:part:part``, hashed when too long for the ledger column."""
    joined = ":".join(parts)
    ident = f"{kind}:{joined}"
    if len(ident) > MAX_EVENT_ID:
        ident = f"{kind}:#{hashlib.sha256(joined.encode()).hexdigest()}"
    return ident


def digest(payload: JSON) -> str:
    """A fingerprint of a whole payload: the fallback id when Slack's own ids are missing."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:40]


def split_custom_id(custom_id: str) -> tuple[str, str]:
    """``"vote:k3m9xq:2"`` -> ``("vote", "k3m9xq:2")`` (the inverse of ``Button.custom_id``)."""
    action_id, _, value = custom_id.partition(":")
    return action_id, value


def unescape(text: str) -> str:
    """Slack's message text as the person typed it: entities decoded, links spelled out."""
    text = _LINK_WITH_LABEL.sub(
        lambda m: m.group(2) if m.group(2) in m.group(1) else f"{m.group(2)} ({m.group(1)})",
        text,
    )
    text = _BARE_LINK.sub(r"\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def is_direct(channel_id: str, channel_name: str | None = None) -> bool:
    return channel_id.startswith("D") or channel_name == "directmessage"


def _actor(body: JSON) -> Actor:
    user = body.get("user") or {}
    if not isinstance(user, Mapping):
        return Actor(str(user))
    name = user.get("name") or user.get("username") or ""
    return Actor(str(user.get("id", "")), str(name))


def _channel_of(body: JSON) -> str:
    channel = body.get("channel")
    if isinstance(channel, Mapping) and channel.get("id"):
        return str(channel["id"])
    container = body.get("container") or {}
    return str(container.get("channel_id") or "")


def command_event(body: JSON) -> Event:
    """``/townhall poll "Q?" "A"`` -> COMMAND ``poll "Q?" "A"``; a bare ``/townhall`` is help."""
    channel = str(body.get("channel_id") or "")
    trigger = str(body.get("trigger_id") or "")
    return Event(
        PLATFORM,
        stable_id("cmd", trigger) if trigger else stable_id("cmd", digest(body)),
        EventKind.COMMAND,
        Actor(str(body.get("user_id", "")), str(body.get("user_name") or "")),
        Target(channel, private=is_direct(channel, body.get("channel_name"))),
        text=str(body.get("text") or "").strip() or "help",
        raw=body,
    )


def is_form_action(action: JSON) -> bool:
    return str(action.get("action_id") or "").startswith(FORM_PREFIX)


def action_event(body: JSON, action: JSON) -> Event | None:
    """A button click -> ACTION ``action_id`` / ``value`` from the button's custom id."""
    custom_id = str(action.get("value") or "")
    if not custom_id:  # not one of our buttons (ours always carry their custom id as value)
        return None
    action_id, value = split_custom_id(custom_id)
    container = body.get("container") or {}
    message_ts = container.get("message_ts")
    trigger = str(body.get("trigger_id") or "")
    event_id = (
        stable_id("act", trigger)
        if trigger
        else stable_id("act", str(message_ts), str(action.get("action_ts")), digest(body))
    )
    channel = _channel_of(body)
    return Event(
        PLATFORM,
        event_id,
        EventKind.ACTION,
        _actor(body),
        Target(
            channel,
            thread_id=container.get("thread_ts"),
            message_id=str(message_ts) if message_ts else None,
            private=is_direct(channel),
        ),
        action_id=action_id,
        action_value=value,
        raw=body,
    )


def form_metadata(channel_id: str, message_ts: str | None) -> str:
    """What an answer modal remembers about where it was opened (its ``private_metadata``)."""
    return json.dumps({"c": channel_id, "m": message_ts}, separators=(",", ":"))


def submission_event(body: JSON) -> Event | None:
    """A submitted answer modal -> SUBMIT ``answer`` / item id / the text."""
    view = body.get("view") or {}
    callback = str(view.get("callback_id") or "")
    if not callback.startswith(FORM_PREFIX):
        return None
    action_id, value = split_custom_id(callback.removeprefix(FORM_PREFIX))
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        meta = {}
    channel = str(meta.get("c") or "") if isinstance(meta, dict) else ""
    state = (view.get("state") or {}).get("values") or {}
    text = ((state.get(ANSWER_BLOCK) or {}).get(ANSWER_INPUT) or {}).get("value") or ""
    trigger = str(body.get("trigger_id") or "")
    event_id = (
        stable_id("sub", trigger)
        if trigger
        else stable_id("sub", str(view.get("id")), str(view.get("hash")), digest(body))
    )
    return Event(
        PLATFORM,
        event_id,
        EventKind.SUBMIT,
        _actor(body),
        Target(channel, private=is_direct(channel)),
        text=str(text),
        action_id=action_id,
        action_value=value,
        raw=body,
    )


def report_event(body: JSON) -> Event:
    """The "Report to moderators" message shortcut -> ACTION ``report`` ``m:<channel>:<ts>``.

    ``m:<channel>:<message id>`` is how the moderation handler names "the answer written as
    this message" (answers from thread replies keep their channel and ts).
    """
    channel = _channel_of(body)
    message = body.get("message") or {}
    ts = str(body.get("message_ts") or message.get("ts") or "")
    trigger = str(body.get("trigger_id") or "")
    return Event(
        PLATFORM,
        stable_id("sc", trigger) if trigger else stable_id("sc", digest(body)),
        EventKind.ACTION,
        _actor(body),
        Target(
            channel,
            thread_id=message.get("thread_ts"),
            message_id=ts or None,
            private=is_direct(channel),
        ),
        action_id="report",
        action_value=f"m:{channel}:{ts}",
        raw=body,
    )


def reply_event(envelope: JSON, event: JSON, bot_user_id: str | None) -> Event | None:
    """A person's message in the thread of one of the bot's messages -> REPLY; else None.

    Ignored: edits and deletions (and other subtypes), bots (ourselves included), top-level
    messages, and threads started by someone else (``parent_user_id`` tells without a lookup).
    """
    if event.get("subtype") not in _WRITTEN_SUBTYPES or event.get("bot_id"):
        return None
    user = event.get("user")
    if not user or user == bot_user_id:
        return None
    ts, thread_ts = event.get("ts"), event.get("thread_ts")
    if not thread_ts or thread_ts == ts:
        return None
    parent = event.get("parent_user_id")
    if parent is not None and bot_user_id and parent != bot_user_id:
        return None
    channel = str(event.get("channel") or "")
    slack_event_id = envelope.get("event_id")
    event_id = (
        stable_id("ev", str(slack_event_id))
        if slack_event_id
        else stable_id("msg", channel, str(ts))
    )
    return Event(
        PLATFORM,
        event_id,
        EventKind.REPLY,
        Actor(str(user)),
        Target(
            channel,
            thread_id=str(thread_ts),
            message_id=str(ts),
            private=event.get("channel_type") == "im",
        ),
        text=unescape(str(event.get("text") or "")),
        reply_to=str(thread_ts),
        raw=envelope,
    )
