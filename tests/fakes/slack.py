"""A fake Slack platform for tests: a fake Web API server plus a client that signs requests.

It has two halves:

1. :class:`FakeSlack` is an aiohttp server on 127.0.0.1 (with a port the OS picks) that speaks
   enough of the Slack Web API for the *real* ``slack_sdk`` ``AsyncWebClient`` (and so
   ``slack_bolt``'s ``AsyncApp``) to talk to it. It also serves the ``response_url`` endpoints
   that ``respond()`` posts to. It keeps messages, ephemerals, modals, users and channels in
   memory, records every call, and can inject errors (``ratelimited`` 429s, ``fail_next``,
   ``hold_next``).
2. :class:`SlackEventsClient` sends requests shaped like Slack's to an app's ``/slack/events``
   endpoint, signed with the app's signing secret (HMAC-SHA256 over ``v0:{ts}:{body}``). It can
   send slash commands, ``block_actions``, ``view_submission``/``view_closed``, message and
   global shortcuts, Events API callbacks and ``url_verification``. It returns a
   :class:`SlackHttpResult`, which unpacks as ``status, body``. Every convenience method first
   *builds* a :class:`SlackRequest`; ``await client.send(result.request, ...)`` re-sends the
   exact same bytes, re-signed. Use this for duplicate deliveries and for Slack's retries
   (``retry_num=`` adds ``X-Slack-Retry-Num``/``X-Slack-Retry-Reason``).

Typical use (``process_before_response=True`` makes dispatch deterministic)::

    SECRET = "test-signing-secret"

    async with FakeSlack() as fake:  # bot_token="xoxb-test-not-a-real-token", team "T0TEST"
        app = AsyncApp(
            client=AsyncWebClient(token=fake.bot_token, base_url=fake.api_url),
            signing_secret=SECRET,
            process_before_response=True,
        )
        ...  # register listeners, or build Townhall's own aiohttp app
        async with serve_bolt_app(app) as events_url, SlackEventsClient(
            events_url, SECRET, fake=fake
        ) as slack:
            status, body = await slack.slash_command("U1", "C1", "new Lunch?")
            call = await fake.wait_for_call("chat.postMessage")
            msg = fake.message(call.response["channel"], call.response["ts"])
            status, _ = await slack.block_action("U1", "C1", msg, "vote", "yes")
            await fake.wait_for_call("chat.update")
            assert fake.message("C1", msg["ts"])["text"] == "..."

Notes on how faithful the fake is (it errs towards *failing loudly*):

* Unknown Web API methods get ``{"ok": false, "error": "unknown_method"}`` and are added to
  ``fake.unhandled``. Leaving the ``async with`` block with unhandled calls raises
  ``AssertionError``, unless ``check_unhandled_on_exit=False`` or you clear ``fake.unhandled``.
* A bad token gets ``invalid_auth``. No token gets ``not_authed``.
* Blocks and views are checked against the common Block Kit limits (button text <= 75,
  option value <= 150, header <= 150, modal title <= 24, 50 blocks per message, duplicate
  ``block_id``, empty text, ...). Problems get ``invalid_blocks`` / ``invalid_arguments`` with
  Slack-style ``[json-pointer:...]`` messages. Turn this off with ``validate_blocks=False``.
* ``trigger_id`` values are issued by the fake (``new_trigger_id``). The events client does
  this for you. They are single-use (``exchanged_trigger_id``), expire after ``trigger_ttl``
  seconds (``expired_trigger_id``), and unknown ones get ``invalid_trigger_id``.
* Stored messages carry Slack-added fields: a ``block_id`` on every block, an ``action_id`` on
  every interactive element, ``"emoji": true`` on plain_text. ``chat.update`` keeps the old
  blocks when ``blocks`` is left out and removes them when ``blocks=[]``. Only the bot's own
  messages can be updated or deleted (``cant_update_message``).
* Response URLs are bound to the interaction's channel, user and message. ``replace_original``
  and ``delete_original`` edit or delete the bound message. ``response_type: in_channel`` posts
  a channel message. Anything else becomes an ephemeral (kept in ``fake.ephemerals``). Each
  URL takes at most 5 posts (``response_url_max_uses``).
* ``chat.postMessage`` to a channel ID the fake has not seen creates the channel, unless
  ``auto_create_channels=False``. ``add_channel(..., is_member=False)`` makes posts fail with
  ``not_in_channel``.
* Posting to a user ID (``U...``) opens a DM ``D...`` as Slack does.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import hmac
import itertools
import json
import re
import secrets
import string
import time
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypedDict, Unpack

import aiohttp
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from tests.fakes import base

if TYPE_CHECKING:
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.http_retry.async_handler import AsyncRetryHandler
    from slack_sdk.web.async_client import AsyncWebClient

__all__ = [
    "DEFAULT_BOT_TOKEN",
    "DEFAULT_BOT_USER_ID",
    "DEFAULT_TEAM_ID",
    "Call",
    "FakeSlack",
    "ResponsePost",
    "ResponseUrl",
    "SendOptions",
    "SlackEventsClient",
    "SlackHttpResult",
    "SlackRequest",
    "bolt_aiohttp_handler",
    "element_state",
    "find_element",
    "serve_bolt_app",
    "serve_web_app",
    "sign_request",
    "validate_blocks",
    "validate_view",
]

JSONDict = dict[str, Any]
Predicate = Callable[["Call"], bool]

DEFAULT_BOT_TOKEN = "xoxb-test-not-a-real-token"
DEFAULT_TEAM_ID = "T0TEST"
DEFAULT_BOT_USER_ID = "U0BOT"
DEFAULT_SCOPES: tuple[str, ...] = (
    "app_mentions:read",
    "channels:history",
    "channels:read",
    "chat:write",
    "commands",
    "groups:history",
    "groups:read",
    "im:history",
    "im:write",
    "users:read",
)
SLACK_USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"
#: How far back ``stale=True`` puts ``X-Slack-Request-Timestamp`` (bolt rejects > 300 s).
STALE_SECONDS = 600

_ALNUM = string.ascii_letters + string.digits
_JSON_FIELDS = ("blocks", "attachments", "view", "metadata")
_CHANNEL_ID_RE = re.compile(r"[CGD][A-Za-z0-9_]+")
_USER_ID_RE = re.compile(r"[UW][A-Za-z0-9_]+")


def _rand(n: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(n))


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def _ts_key(ts: str) -> tuple[int, int]:
    sec, _, frac = ts.partition(".")
    return int(sec or 0), int((frac or "0").ljust(6, "0")[:6])


def _compact(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class Call(base.Call):
    """One request received by the fake Web API; recorded after it was answered (``at``).

    ``method`` is the Web API method, e.g. ``"chat.postMessage"`` (or ``"GET /some/path"``
    for odd paths); ``params`` has query + form/JSON params merged, JSON-string fields
    (blocks, view, ...) decoded.
    """

    params: JSONDict = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    """Request headers (case-insensitive mapping)."""
    encoding: Literal["json", "form", "multipart", "query"] = "form"
    """How the params arrived: JSON body, urlencoded form, multipart, or query string only."""
    status: int = 200
    """HTTP status the fake answered with (429 for injected rate limits)."""
    response: JSONDict = field(default_factory=dict)
    """JSON body the fake answered with."""
    raw_params: JSONDict = field(default_factory=dict)
    """Params exactly as received (JSON-string fields not decoded)."""

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        err = self.response.get("error")
        return str(err) if err is not None else None

    @property
    def token(self) -> str | None:
        auth = self.headers.get("Authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        tok = self.raw_params.get("token")
        return str(tok) if tok is not None else None

    def __getitem__(self, key: str) -> Any:
        """``call["channel"]`` is ``call.params["channel"]``."""
        return self.params[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.params.get(key, default)


@dataclass
class ResponseUrl:
    """A ``response_url`` minted by the fake, bound to the interaction that carried it."""

    id: str
    url: str
    kind: str
    """``slash_command``, ``block_actions``, ``message_action`` or ``manual``."""
    channel_id: str | None = None
    user_id: str | None = None
    message_ts: str | None = None
    """For block_actions/message_action: the message the interaction came from."""
    is_ephemeral: bool = False
    uses: int = 0


@dataclass(frozen=True)
class ResponsePost:
    """One POST to a response URL (as ``respond()`` sends)."""

    url: str
    target: ResponseUrl | None
    body: JSONDict
    headers: Mapping[str, str]
    status: int
    effect: str
    """``ephemeral``, ``in_channel``, ``replaced``, ``deleted`` or ``error:<reason>``."""
    message_ts: str | None = None
    """ts of the message created/replaced/deleted by this post (ephemeral ts for ephemerals)."""
    at: float = 0.0

    @property
    def text(self) -> str | None:
        value = self.body.get("text")
        return str(value) if value is not None else None

    @property
    def blocks(self) -> list[JSONDict] | None:
        value = self.body.get("blocks")
        return list(value) if isinstance(value, list) else None

    @property
    def response_type(self) -> str:
        """``in_channel`` or ``ephemeral`` (Slack's default)."""
        return str(self.body.get("response_type") or "ephemeral")

    @property
    def replace_original(self) -> bool:
        return _truthy(self.body.get("replace_original"))

    @property
    def delete_original(self) -> bool:
        return _truthy(self.body.get("delete_original"))

    @property
    def thread_ts(self) -> str | None:
        value = self.body.get("thread_ts")
        return str(value) if value is not None else None

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class _Trigger:
    id: str
    user_id: str | None
    issued: float
    used: bool = False


@dataclass
class _Injection:
    kind: Literal["ratelimit", "fail", "hold", "slow"]
    remaining: int
    error: str = ""
    status: int = 200
    retry_after: int = 1
    extra: JSONDict = field(default_factory=dict)
    release: asyncio.Event | None = None
    delay: float = 0.0


class _ApiError(Exception):
    def __init__(self, error: str, *, status: int = 200, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.extra = extra


def _invalid(error: str, problems: list[str]) -> _ApiError:
    return _ApiError(
        error,
        errors=problems,
        response_metadata={"messages": [f"[ERROR] {p}" for p in problems]},
    )


# --------------------------------------------------------------------------------------------
# Block Kit validation (common documented limits only; unknown block/element types pass)
# --------------------------------------------------------------------------------------------


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, message: str, path: str) -> None:
        self.items.append(f"{message} [json-pointer:{path}]")


def _check_text(
    obj: Any,
    path: str,
    p: _Problems,
    *,
    plain_only: bool = False,
    max_len: int | None = None,
    required: bool = True,
) -> None:
    if obj is None:
        if required:
            p.add("missing required field: text", path)
        return
    if not isinstance(obj, dict):
        p.add("must be a text object", path)
        return
    allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    if obj.get("type") not in allowed:
        p.add(f"must be one of: {', '.join(allowed)}", f"{path}/type")
    text = obj.get("text")
    if not isinstance(text, str):
        p.add("must be a string", f"{path}/text")
        return
    if not text:
        p.add("must be more than 0 characters", f"{path}/text")
    if max_len is not None and len(text) > max_len:
        p.add(f"must be less than {max_len + 1} characters", f"{path}/text")


def _check_str(value: Any, path: str, p: _Problems, max_len: int, *, required: bool) -> None:
    if value is None:
        if required:
            p.add("missing required field", path)
        return
    if not isinstance(value, str):
        p.add("must be a string", path)
    elif len(value) > max_len:
        p.add(f"must be less than {max_len + 1} characters", path)


_OPTION_LIMITS = {
    "static_select": 100,
    "multi_static_select": 100,
    "radio_buttons": 10,
    "checkboxes": 10,
    "overflow": 5,
}
_TEXT_INPUTS = ("plain_text_input", "email_text_input", "url_text_input", "number_input")


def _check_options(options: Any, path: str, p: _Problems, limit: int, plain_only: bool) -> None:
    if not isinstance(options, list) or not options:
        p.add("must be a non-empty array", path)
        return
    if len(options) > limit:
        p.add(f"no more than {limit} items allowed", path)
    for i, opt in enumerate(options):
        op = f"{path}/{i}"
        if not isinstance(opt, dict):
            p.add("must be an option object", op)
            continue
        _check_text(opt.get("text"), f"{op}/text", p, plain_only=plain_only, max_len=75)
        _check_str(opt.get("value"), f"{op}/value", p, 150, required=True)


def _check_element(el: Any, path: str, p: _Problems, action_ids: set[str]) -> None:
    if not isinstance(el, dict) or not isinstance(el.get("type"), str):
        p.add("missing required field: type", path)
        return
    etype = el["type"]
    aid = el.get("action_id")
    if aid is not None:
        if not isinstance(aid, str) or not aid or len(aid) > 255:
            p.add("action_id must be a string of 1-255 characters", f"{path}/action_id")
        elif aid in action_ids:
            p.add(f"duplicate action_id {aid!r} in block", f"{path}/action_id")
        else:
            action_ids.add(aid)
    if etype == "button":
        _check_text(el.get("text"), f"{path}/text", p, plain_only=True, max_len=75)
        _check_str(el.get("value"), f"{path}/value", p, 2000, required=False)
        _check_str(el.get("url"), f"{path}/url", p, 3000, required=False)
        if el.get("style") not in (None, "primary", "danger"):
            p.add("must be one of: primary, danger", f"{path}/style")
    elif etype in _OPTION_LIMITS:
        plain_only = etype in ("static_select", "multi_static_select", "overflow")
        if "option_groups" in el and "options" not in el:
            groups = el["option_groups"]
            if not isinstance(groups, list) or not groups:
                p.add("must be a non-empty array", f"{path}/option_groups")
            else:
                for gi, group in enumerate(groups):
                    gp = f"{path}/option_groups/{gi}"
                    if not isinstance(group, dict):
                        p.add("must be an option group object", gp)
                        continue
                    _check_text(group.get("label"), f"{gp}/label", p, plain_only=True, max_len=75)
                    _check_options(
                        group.get("options"), f"{gp}/options", p, _OPTION_LIMITS[etype], True
                    )
        else:
            _check_options(
                el.get("options"), f"{path}/options", p, _OPTION_LIMITS[etype], plain_only
            )
        if "placeholder" in el:
            _check_text(el["placeholder"], f"{path}/placeholder", p, plain_only=True, max_len=150)
    elif etype in _TEXT_INPUTS:
        max_length = el.get("max_length")
        if max_length is not None and (not isinstance(max_length, int) or max_length > 3000):
            p.add("must be an integer no greater than 3000", f"{path}/max_length")
        if "placeholder" in el:
            _check_text(el["placeholder"], f"{path}/placeholder", p, plain_only=True, max_len=150)
    elif etype == "image":
        if "image_url" not in el and "slack_file" not in el:
            p.add("missing required field: image_url", path)
        _check_str(el.get("alt_text"), f"{path}/alt_text", p, 2000, required=True)


def _block_limit(surface: str) -> int:
    return 50 if surface == "message" else 100


def validate_blocks(
    blocks: Any, *, surface: Literal["message", "modal", "home"] = "message", path: str = "/blocks"
) -> list[str]:
    """Check ``blocks`` against common Block Kit limits.

    Returns Slack-style problem strings (empty list means valid).
    """
    p = _Problems()
    if not isinstance(blocks, list):
        p.add("must be an array", path)
        return p.items
    limit = _block_limit(surface)
    if len(blocks) > limit:
        p.add(f"no more than {limit} items allowed", path)
    seen_block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        bp = f"{path}/{i}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            p.add("missing required field: type", bp)
            continue
        bid = block.get("block_id")
        if bid is not None:
            if not isinstance(bid, str) or not bid or len(bid) > 255:
                p.add("block_id must be a string of 1-255 characters", f"{bp}/block_id")
            elif bid in seen_block_ids:
                p.add(f"duplicate block_id {bid!r}", f"{bp}/block_id")
            else:
                seen_block_ids.add(bid)
        action_ids: set[str] = set()
        btype = block["type"]
        if btype == "section":
            if "text" not in block and "fields" not in block:
                p.add("must provide either text or fields", bp)
            if "text" in block:
                _check_text(block["text"], f"{bp}/text", p, max_len=3000)
            if "fields" in block:
                fields = block["fields"]
                if not isinstance(fields, list) or not fields:
                    p.add("must be a non-empty array", f"{bp}/fields")
                else:
                    if len(fields) > 10:
                        p.add("no more than 10 items allowed", f"{bp}/fields")
                    for fi, fld in enumerate(fields):
                        _check_text(fld, f"{bp}/fields/{fi}", p, max_len=2000)
            if "accessory" in block:
                _check_element(block["accessory"], f"{bp}/accessory", p, action_ids)
        elif btype == "header":
            _check_text(block.get("text"), f"{bp}/text", p, plain_only=True, max_len=150)
        elif btype == "actions":
            elements = block.get("elements")
            if not isinstance(elements, list) or not elements:
                p.add("must be a non-empty array", f"{bp}/elements")
            else:
                if len(elements) > 25:
                    p.add("no more than 25 items allowed", f"{bp}/elements")
                for ei, el in enumerate(elements):
                    _check_element(el, f"{bp}/elements/{ei}", p, action_ids)
        elif btype == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not elements:
                p.add("must be a non-empty array", f"{bp}/elements")
            else:
                if len(elements) > 10:
                    p.add("no more than 10 items allowed", f"{bp}/elements")
                for ei, el in enumerate(elements):
                    ep = f"{bp}/elements/{ei}"
                    if isinstance(el, dict) and el.get("type") == "image":
                        _check_element(el, ep, p, action_ids)
                    else:
                        _check_text(el, ep, p)
        elif btype == "image":
            if "image_url" not in block and "slack_file" not in block:
                p.add("missing required field: image_url", bp)
            _check_str(block.get("alt_text"), f"{bp}/alt_text", p, 2000, required=True)
            if "title" in block:
                _check_text(block["title"], f"{bp}/title", p, plain_only=True, max_len=2000)
        elif btype == "input":
            _check_text(block.get("label"), f"{bp}/label", p, plain_only=True, max_len=2000)
            if "hint" in block:
                _check_text(block["hint"], f"{bp}/hint", p, plain_only=True, max_len=2000)
            if "element" not in block:
                p.add("missing required field: element", bp)
            else:
                _check_element(block["element"], f"{bp}/element", p, action_ids)
    return p.items


def validate_view(view: Any, *, kinds: Sequence[str] = ("modal",)) -> list[str]:
    """Check a view payload (modal or home tab); returns problem strings."""
    p = _Problems()
    if not isinstance(view, dict):
        p.add("must be a view object", "/view")
        return p.items
    vtype = view.get("type")
    if vtype not in kinds:
        p.add(f"must be one of: {', '.join(kinds)}", "/view/type")
    if vtype == "modal":
        _check_text(view.get("title"), "/view/title", p, plain_only=True, max_len=24)
        for key in ("submit", "close"):
            if key in view and view[key] is not None:
                _check_text(view[key], f"/view/{key}", p, plain_only=True, max_len=24)
        blocks = view.get("blocks", [])
        has_input = isinstance(blocks, list) and any(
            isinstance(b, dict) and b.get("type") == "input" for b in blocks
        )
        if has_input and not view.get("submit"):
            p.add("submit is required when input blocks are present", "/view/submit")
    _check_str(view.get("callback_id"), "/view/callback_id", p, 255, required=False)
    _check_str(view.get("private_metadata"), "/view/private_metadata", p, 3000, required=False)
    _check_str(view.get("external_id"), "/view/external_id", p, 255, required=False)
    if "blocks" not in view:
        p.add("missing required field: blocks", "/view/blocks")
    else:
        surface: Literal["modal", "home"] = "home" if vtype == "home" else "modal"
        p.items.extend(validate_blocks(view["blocks"], surface=surface, path="/view/blocks"))
    return p.items


# --------------------------------------------------------------------------------------------
# Block helpers shared by the fake and the events client
# --------------------------------------------------------------------------------------------

_INTERACTIVE_TYPES = {
    "button",
    "static_select",
    "multi_static_select",
    "external_select",
    "multi_external_select",
    "users_select",
    "multi_users_select",
    "conversations_select",
    "multi_conversations_select",
    "channels_select",
    "multi_channels_select",
    "overflow",
    "datepicker",
    "timepicker",
    "datetimepicker",
    "radio_buttons",
    "checkboxes",
    "plain_text_input",
    "email_text_input",
    "url_text_input",
    "number_input",
    "rich_text_input",
}


def _block_elements(block: Mapping[str, Any]) -> Iterator[JSONDict]:
    btype = block.get("type")
    if btype == "actions":
        for el in block.get("elements") or []:
            if isinstance(el, dict):
                yield el
    elif btype == "section":
        acc = block.get("accessory")
        if isinstance(acc, dict):
            yield acc
    elif btype == "input":
        el = block.get("element")
        if isinstance(el, dict):
            yield el


def _normalize_text_objects(node: Any) -> Any:
    """Add the defaults Slack adds to text objects (``emoji`` / ``verbatim``)."""
    if isinstance(node, dict):
        if node.get("type") == "plain_text" and isinstance(node.get("text"), str):
            node.setdefault("emoji", True)
        elif node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
            node.setdefault("verbatim", False)
        for value in node.values():
            _normalize_text_objects(value)
    elif isinstance(node, list):
        for item in node:
            _normalize_text_objects(item)
    return node


def _normalize_blocks(blocks: Sequence[Any]) -> list[JSONDict]:
    """Deep copy + what Slack adds when storing: block_id, action_id, text defaults."""
    out: list[JSONDict] = copy.deepcopy([b for b in blocks if isinstance(b, dict)])
    for block in out:
        block.setdefault("block_id", _rand(5))
        for el in _block_elements(block):
            if el.get("type") in _INTERACTIVE_TYPES:
                el.setdefault("action_id", _rand(5))
    _normalize_text_objects(out)
    return out


def find_element(
    blocks: Sequence[Mapping[str, Any]] | None, action_id: str, block_id: str | None = None
) -> tuple[JSONDict, str | None] | None:
    """Find the interactive element with ``action_id`` (and ``block_id``) in ``blocks``."""
    for block in blocks or []:
        bid = block.get("block_id")
        if block_id is not None and bid != block_id:
            continue
        for el in _block_elements(block):
            if el.get("action_id") == action_id:
                return el, bid
    return None


def _options_of(element: Mapping[str, Any]) -> list[JSONDict]:
    options = [o for o in element.get("options") or [] if isinstance(o, dict)]
    for group in element.get("option_groups") or []:
        options.extend(o for o in group.get("options") or [] if isinstance(o, dict))
    return options


def _find_option(element: Mapping[str, Any], value: Any) -> JSONDict:
    if isinstance(value, dict):
        return copy.deepcopy(value)
    options = _options_of(element)
    if not options:  # external_select etc.: options are not in the element
        return {"text": {"type": "plain_text", "text": str(value), "emoji": True}, "value": value}
    for opt in options:
        if opt.get("value") == value:
            return copy.deepcopy(opt)
    offered = [o.get("value") for o in options]
    raise ValueError(
        f"option {value!r} is not offered by {element.get('action_id')!r} (offered: {offered})"
    )


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (str, dict)):
        return [value]
    return list(value)


_INITIAL_TO_STATE = {
    "initial_option": "selected_option",
    "initial_options": "selected_options",
    "initial_value": "value",
    "initial_date": "selected_date",
    "initial_time": "selected_time",
    "initial_date_time": "selected_date_time",
    "initial_user": "selected_user",
    "initial_users": "selected_users",
    "initial_conversation": "selected_conversation",
    "initial_conversations": "selected_conversations",
    "initial_channel": "selected_channel",
    "initial_channels": "selected_channels",
}


def element_state(element: Mapping[str, Any], value: Any) -> JSONDict:
    """The ``state.values`` entry Slack sends for ``element`` when the user chose ``value``.

    ``value`` is a plain value (option *value*, user id, date string, text, ...) or a list for
    multi-selects/checkboxes. ``None`` means "empty", and the element's ``initial_*`` is used.
    A dict that already has a ``type`` key is returned unchanged, as a complete state entry.
    """
    if isinstance(value, dict) and "type" in value:
        return copy.deepcopy(value)
    etype = str(element.get("type"))
    state: JSONDict = {"type": etype}
    if value is None:
        for initial, key in _INITIAL_TO_STATE.items():
            if initial in element:
                state[key] = copy.deepcopy(element[initial])
    if etype in ("static_select", "external_select", "radio_buttons", "overflow"):
        if value is not None:
            state["selected_option"] = _find_option(element, value)
        else:
            state.setdefault("selected_option", None)
    elif etype in ("multi_static_select", "multi_external_select", "checkboxes"):
        if value is not None:
            state["selected_options"] = [_find_option(element, v) for v in _as_list(value)]
        else:
            state.setdefault("selected_options", [])
    elif etype in ("users_select", "conversations_select", "channels_select"):
        key = {
            "users_select": "selected_user",
            "conversations_select": "selected_conversation",
            "channels_select": "selected_channel",
        }[etype]
        if value is not None:
            state[key] = value
        else:
            state.setdefault(key, None)
    elif etype in ("multi_users_select", "multi_conversations_select", "multi_channels_select"):
        key = {
            "multi_users_select": "selected_users",
            "multi_conversations_select": "selected_conversations",
            "multi_channels_select": "selected_channels",
        }[etype]
        if value is not None:
            state[key] = _as_list(value)
        else:
            state.setdefault(key, [])
    elif etype == "datepicker":
        state["selected_date"] = value if value is not None else state.get("selected_date")
    elif etype == "timepicker":
        state["selected_time"] = value if value is not None else state.get("selected_time")
    elif etype == "datetimepicker":
        if value is not None:
            state["selected_date_time"] = int(value)
        else:
            state.setdefault("selected_date_time", None)
    elif etype == "button":
        if value is not None:
            state["value"] = value
        elif "value" in element:
            state["value"] = element["value"]
    else:  # text inputs and anything unknown
        if value is not None:
            state["value"] = str(value) if etype in _TEXT_INPUTS else value
        else:
            state.setdefault("value", None)
    return state


def _action_payload(element: Mapping[str, Any], block_id: str, value: Any) -> JSONDict:
    etype = str(element.get("type"))
    action: JSONDict = {
        "action_id": element.get("action_id"),
        "block_id": block_id,
        "type": etype,
        "action_ts": f"{time.time():.6f}",
    }
    if etype == "button":
        action["text"] = copy.deepcopy(element.get("text"))
        chosen = value if value is not None else element.get("value")
        if chosen is not None:
            action["value"] = chosen
        if "style" in element:
            action["style"] = element["style"]
        if "url" in element:
            action["url"] = element["url"]
        return action
    state = element_state(element, value)
    state.pop("type", None)
    action.update(state)
    if "placeholder" in element:
        action["placeholder"] = copy.deepcopy(element["placeholder"])
    return action


def _state_values(
    blocks: Sequence[Mapping[str, Any]], *, only_input_blocks: bool
) -> dict[str, dict[str, JSONDict]]:
    values: dict[str, dict[str, JSONDict]] = {}
    for block in blocks:
        if only_input_blocks and block.get("type") != "input":
            continue
        if block.get("type") not in ("input", "actions", "section"):
            continue
        for el in _block_elements(block):
            if el.get("type") in ("button", "overflow") or "action_id" not in el:
                continue
            if el.get("type") not in _INTERACTIVE_TYPES:
                continue
            bid = str(block.get("block_id"))
            values.setdefault(bid, {})[str(el["action_id"])] = element_state(el, None)
    return values


def _rich_text_blocks(text: str) -> list[JSONDict]:
    return [
        {
            "type": "rich_text",
            "block_id": _rand(4),
            "elements": [
                {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
            ],
        }
    ]


# --------------------------------------------------------------------------------------------
# The fake Web API
# --------------------------------------------------------------------------------------------

_ApiHandler = Callable[[JSONDict], JSONDict]


class FakeSlack(base.FakeServer):
    """Fake Slack Web API plus response URLs, on ``http://127.0.0.1:<port>``.

    Use as ``async with FakeSlack(...) as fake:``. The real ``AsyncWebClient`` needs
    ``base_url=fake.api_url`` (or ``fake.web_client()``).

    Inspect: ``calls`` / ``calls_to()`` / ``unhandled`` / ``responses`` / ``ephemerals`` /
    ``message()`` / ``message_versions()`` / ``channel_messages()`` / ``thread_replies()`` /
    ``last_message()`` / ``view()`` / ``find_view()`` / ``open_views()`` / ``home_tabs``.

    Inject: ``rate_limit_next()``, ``fail_next()``, ``hold_next()``.

    Wait (no sleeps): ``wait_for_call()``, ``wait_for_response()``, ``wait_until()``.
    """

    def __init__(
        self,
        bot_token: str = DEFAULT_BOT_TOKEN,
        team_id: str = DEFAULT_TEAM_ID,
        bot_user_id: str = DEFAULT_BOT_USER_ID,
        *,
        bot_id: str = "B0BOT",
        app_id: str = "A0TEST",
        bot_name: str = "townhall",
        team_name: str = "Townhall Test",
        team_domain: str = "townhall-test",
        scopes: Sequence[str] = DEFAULT_SCOPES,
        validate_blocks: bool = True,
        auto_create_channels: bool = True,
        trigger_ttl: float | None = 3.0,
        response_url_max_uses: int | None = 5,
        check_unhandled_on_exit: bool = True,
        first_ts: int = 1_700_000_000,
        host: str = "127.0.0.1",
    ) -> None:
        self.bot_token = bot_token
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.bot_name = bot_name
        self.team_name = team_name
        self.team_domain = team_domain
        self.scopes = tuple(scopes)
        self.validate = validate_blocks
        self.auto_create_channels = auto_create_channels
        self.trigger_ttl = trigger_ttl
        self.response_url_max_uses = response_url_max_uses
        self.check_unhandled_on_exit = check_unhandled_on_exit
        self.host = host

        self.calls: list[Call] = []
        """Every Web API call, in the order answered (including failed/429/unknown ones)."""
        self.unhandled: list[Call] = []
        """Calls to methods/paths the fake does not implement."""
        self.responses: list[ResponsePost] = []
        """Every POST to a response URL."""
        self.ephemerals: list[JSONDict] = []
        """Ephemeral messages: ``{channel, user, ts, text, blocks, thread_ts, source}``."""
        self.messages: dict[str, dict[str, JSONDict]] = {}
        """channel -> ts -> latest version of the message (live; prefer ``message()``)."""
        self.deleted_messages: list[tuple[str, JSONDict]] = []
        self.views: dict[str, JSONDict] = {}
        """view_id -> latest version of every modal/home view ever opened."""
        self.home_tabs: dict[str, JSONDict] = {}
        """user_id -> published home view."""
        self.users: dict[str, JSONDict] = {}
        self.channels: dict[str, JSONDict] = {}

        self._versions: dict[tuple[str, str], list[JSONDict]] = {}
        self._post_order: list[tuple[str, str]] = []
        self._view_stacks: dict[str, list[str]] = {}
        self._response_urls: dict[str, ResponseUrl] = {}
        self._triggers: dict[str, _Trigger] = {}
        self._injections: dict[str, list[_Injection]] = {}
        self._holds: list[asyncio.Event] = []
        self._ts_seq = itertools.count(1)
        self._id_seq = itertools.count(1)
        self._first_ts = first_ts
        self._cond = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._methods: dict[str, _ApiHandler] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.delete": self._chat_delete,
            "chat.getPermalink": self._chat_get_permalink,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "conversations.info": self._conversations_info,
            "conversations.open": self._conversations_open,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "users.info": self._users_info,
        }
        self.add_user(bot_user_id, name=bot_name, real_name=bot_name, is_bot=True)

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> FakeSlack:
        if self._runner is not None:
            return self
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/response/{rid}", self._handle_response_url)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown_path)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, 0)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        return self

    label = "FakeSlack"

    async def stop(self) -> None:
        for event in self._holds:
            event.set()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeSlack is not started (use `async with FakeSlack() as fake`)")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``"""
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """``http://127.0.0.1:PORT/api/``: pass as ``AsyncWebClient(base_url=...)``."""
        return f"{self.base_url}/api/"

    def web_client(
        self,
        token: str | None = None,
        *,
        retry_handlers: list[AsyncRetryHandler] | None = None,
        **kwargs: Any,
    ) -> AsyncWebClient:
        """A real ``AsyncWebClient`` pointed at this fake (bot token by default)."""
        from slack_sdk.web.async_client import AsyncWebClient

        if retry_handlers is not None:
            kwargs["retry_handlers"] = retry_handlers
        return AsyncWebClient(
            token=self.bot_token if token is None else token, base_url=self.api_url, **kwargs
        )

    # -- world setup -------------------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        *,
        name: str | None = None,
        real_name: str | None = None,
        is_bot: bool = False,
        tz: str = "Europe/Amsterdam",
        tz_offset: int = 3600,
        email: str | None = None,
        deleted: bool = False,
        is_admin: bool = False,
    ) -> JSONDict:
        """Register (or replace) a workspace user for ``users.info``."""
        uname = name or user_id.lower()
        rname = real_name or uname.title()
        profile: JSONDict = {
            "real_name": rname,
            "display_name": uname,
            "real_name_normalized": rname,
            "display_name_normalized": uname,
            "team": self.team_id,
            "image_72": f"https://avatars.example.invalid/{user_id}_72.png",
        }
        if email:
            profile["email"] = email
        if is_bot:
            profile["bot_id"] = self.bot_id if user_id == self.bot_user_id else f"B{user_id[1:]}"
        user: JSONDict = {
            "id": user_id,
            "team_id": self.team_id,
            "name": uname,
            "deleted": deleted,
            "real_name": rname,
            "tz": tz,
            "tz_label": tz,
            "tz_offset": tz_offset,
            "is_admin": is_admin,
            "is_owner": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "updated": self._first_ts,
            "profile": profile,
        }
        self.users[user_id] = user
        return copy.deepcopy(user)

    def add_channel(
        self,
        channel_id: str,
        *,
        name: str | None = None,
        is_private: bool | None = None,
        is_member: bool = True,
        is_archived: bool = False,
        user: str | None = None,
    ) -> JSONDict:
        """Register (or replace) a conversation. ``D...`` ids are DMs (pass ``user``)."""
        is_im = channel_id.startswith("D")
        private = is_private if is_private is not None else channel_id.startswith("G")
        cname = name or (f"dm-{(user or channel_id).lower()}" if is_im else channel_id.lower())
        channel: JSONDict = {
            "id": channel_id,
            "name": cname,
            "name_normalized": cname,
            "is_channel": not is_im and not private,
            "is_group": private and not is_im,
            "is_im": is_im,
            "is_mpim": False,
            "is_private": private or is_im,
            "created": self._first_ts,
            "is_archived": is_archived,
            "is_general": False,
            "is_shared": False,
            "is_org_shared": False,
            "is_ext_shared": False,
            "is_member": is_member,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
            "context_team_id": self.team_id,
        }
        if is_im:
            channel["user"] = user or ""
        self.channels[channel_id] = channel
        return copy.deepcopy(channel)

    def ensure_user(self, user_id: str) -> None:
        if user_id not in self.users:
            self.add_user(user_id)

    def ensure_channel(self, channel_id: str) -> None:
        if channel_id not in self.channels:
            self.add_channel(channel_id)

    def new_response_url(
        self,
        *,
        channel_id: str | None = None,
        user_id: str | None = None,
        message_ts: str | None = None,
        kind: str = "manual",
        is_ephemeral: bool = False,
    ) -> str:
        """Mint a response URL served by the fake (``http://127.0.0.1:PORT/response/<id>``)."""
        rid = f"{next(self._id_seq)}{_rand(12)}"
        url = f"{self.base_url}/response/{rid}"
        self._response_urls[rid] = ResponseUrl(
            id=rid,
            url=url,
            kind=kind,
            channel_id=channel_id,
            user_id=user_id,
            message_ts=message_ts,
            is_ephemeral=is_ephemeral,
        )
        return url

    def new_trigger_id(self, user_id: str | None = None) -> str:
        """Mint a trigger_id that ``views.open``/``views.push`` will accept once."""
        n = next(self._id_seq)
        tid = f"{n}{self._first_ts % 100000}.{self._first_ts}.{secrets.token_hex(16)}"
        self._triggers[tid] = _Trigger(tid, user_id, time.monotonic())
        return tid

    def post_user_message(
        self,
        user: str,
        channel: str,
        text: str,
        *,
        thread_ts: str | None = None,
        ts: str | None = None,
        blocks: list[JSONDict] | None = None,
        subtype: str | None = None,
    ) -> JSONDict:
        """Store a message written by a human ``user`` (as Slack does before sending events)."""
        self.ensure_user(user)
        self.ensure_channel(channel)
        msg: JSONDict = {
            "client_msg_id": str(uuid.uuid4()),
            "type": "message",
            "text": text,
            "user": user,
            "ts": ts or self._next_ts(),
            "blocks": copy.deepcopy(blocks) if blocks is not None else _rich_text_blocks(text),
            "team": self.team_id,
        }
        if subtype:
            msg["subtype"] = subtype
        return copy.deepcopy(self._store_message(channel, msg, thread_ts=thread_ts))

    # -- inspection --------------------------------------------------------------------------

    def calls_to(self, method: str, *, ok: bool | None = None) -> list[Call]:
        """Calls to ``method`` in order; ``ok=True/False`` filters on success."""
        return [c for c in self.calls if c.method == method and (ok is None or c.ok == ok)]

    def find_message(self, channel: str, ts: str) -> JSONDict | None:
        msg = self.messages.get(channel, {}).get(ts)
        return copy.deepcopy(msg) if msg is not None else None

    def message(self, channel: str, ts: str) -> JSONDict:
        """Latest version of a stored message (copy). Raises ``KeyError`` if absent."""
        msg = self.find_message(channel, ts)
        if msg is None:
            known = sorted(self.messages.get(channel, {}))
            raise KeyError(f"no message {ts!r} in channel {channel!r} (known: {known})")
        return msg

    def message_versions(self, channel: str, ts: str) -> list[JSONDict]:
        """Every version of a message, oldest first (one entry per post/update)."""
        return copy.deepcopy(self._versions.get((channel, ts), []))

    def channel_messages(self, channel: str) -> list[JSONDict]:
        """Top-level messages of a channel (plus thread broadcasts), oldest first."""
        msgs = [
            m
            for m in self.messages.get(channel, {}).values()
            if m.get("thread_ts") in (None, m["ts"]) or m.get("subtype") == "thread_broadcast"
        ]
        return copy.deepcopy(sorted(msgs, key=lambda m: _ts_key(m["ts"])))

    def thread_replies(self, channel: str, thread_ts: str) -> list[JSONDict]:
        """Replies in a thread (without the parent), oldest first."""
        msgs = [
            m
            for m in self.messages.get(channel, {}).values()
            if m.get("thread_ts") == thread_ts and m["ts"] != thread_ts
        ]
        return copy.deepcopy(sorted(msgs, key=lambda m: _ts_key(m["ts"])))

    def last_message(self, channel: str | None = None) -> JSONDict | None:
        """The most recently *posted* (not deleted) message, optionally in one channel."""
        for ch, ts in reversed(self._post_order):
            if channel is not None and ch != channel:
                continue
            msg = self.messages.get(ch, {}).get(ts)
            if msg is not None:
                return copy.deepcopy(msg)
        return None

    def bot_messages(self, channel: str | None = None) -> list[JSONDict]:
        """Messages posted by the bot (latest versions), in posting order."""
        out: list[JSONDict] = []
        for ch, ts in self._post_order:
            if channel is not None and ch != channel:
                continue
            msg = self.messages.get(ch, {}).get(ts)
            if msg is not None and msg.get("user") == self.bot_user_id:
                out.append(copy.deepcopy(msg))
        return out

    def ephemerals_for(
        self, user_id: str | None = None, channel: str | None = None
    ) -> list[JSONDict]:
        return [
            copy.deepcopy(e)
            for e in self.ephemerals
            if (user_id is None or e.get("user") == user_id)
            and (channel is None or e.get("channel") == channel)
        ]

    def view(self, view_id: str) -> JSONDict:
        """Latest version of a view (copy)."""
        if view_id not in self.views:
            raise KeyError(f"no view {view_id!r} (known: {sorted(self.views)})")
        return copy.deepcopy(self.views[view_id])

    def find_view(
        self, *, callback_id: str | None = None, user_id: str | None = None
    ) -> JSONDict | None:
        """The topmost open view (else the latest ever opened) matching the filters."""
        if user_id is not None:
            candidates = [self.views[v] for v in reversed(self._view_stacks.get(user_id, []))]
        else:
            candidates = [
                self.views[v] for stack in self._view_stacks.values() for v in reversed(stack)
            ]
        candidates += list(reversed(self.views.values()))
        for view in candidates:
            if callback_id is not None and view.get("callback_id") != callback_id:
                continue
            if user_id is not None and view.get("_user_id") not in (None, user_id):
                continue
            return copy.deepcopy(view)
        return None

    def open_views(self, user_id: str) -> list[JSONDict]:
        """The user's modal stack, bottom first."""
        return [copy.deepcopy(self.views[v]) for v in self._view_stacks.get(user_id, [])]

    def response_url_info(self, url: str) -> ResponseUrl | None:
        return self._response_urls.get(url.rstrip("/").rsplit("/", 1)[-1])

    def _unhandled_lines(self) -> list[str]:
        return [f"  {c.http_method} {c.method} params={c.params}" for c in self.unhandled]

    def reset_calls(self) -> None:
        """Forget recorded calls and response posts (state such as messages is kept)."""
        self.calls.clear()
        self.unhandled.clear()
        self.responses.clear()

    # -- error injection ---------------------------------------------------------------------

    def rate_limit_next(self, method: str, retry_after: int = 1, count: int = 1) -> None:
        """Answer the next ``count`` calls to ``method`` (``"*"``: any) with HTTP 429.

        Body ``{"ok": false, "error": "ratelimited"}`` and header ``Retry-After``. slack_sdk's
        ``AsyncRateLimitErrorRetryHandler`` sleeps ``Retry-After + random()`` then retries.
        """
        self._inject(method, _Injection("ratelimit", count, retry_after=retry_after))

    def fail_next(
        self,
        method: str,
        error: str = "channel_not_found",
        count: int = 1,
        *,
        status: int = 200,
        retry_after: float | None = None,
        times: int | None = None,
        **extra: Any,
    ) -> None:
        """Answer the next ``count`` (or ``times``) calls to ``method`` with
        ``{"ok": false, "error": ...}``.

        ``status=500``/``503`` imitates server errors (``AsyncServerErrorRetryHandler``);
        ``status=429`` is :meth:`rate_limit_next` (``retry_after`` seconds, default 1).
        """
        count = base.times_or_count(times, count)
        if status == 429:
            self.rate_limit_next(method, retry_after=int(retry_after or 1), count=count)
            return
        self._inject(method, _Injection("fail", count, error=error, status=status, extra=extra))

    def slow_next(self, method: str, seconds: float, count: int = 1) -> None:
        """The next ``count`` calls to ``method`` take effect but answer ``seconds`` late."""
        self._inject(method, _Injection("slow", count, delay=seconds))

    def hold_next(self, method: str, count: int = 1) -> asyncio.Event:
        """Make the next ``count`` calls to ``method`` wait until the returned event is set.

        Useful for deterministic concurrency tests; released automatically on close.
        """
        release = asyncio.Event()
        self._holds.append(release)
        self._inject(method, _Injection("hold", count, release=release))
        return release

    def _inject(self, method: str, injection: _Injection) -> None:
        if injection.remaining < 1:
            raise ValueError("count must be >= 1")
        self._injections.setdefault(method, []).append(injection)

    def _pop_injection(self, method: str) -> _Injection | None:
        for key in (method, "*"):
            queue = self._injections.get(key)
            if queue:
                inj = queue[0]
                inj.remaining -= 1
                if inj.remaining <= 0:
                    queue.pop(0)
                return inj
        return None

    # -- waiting -----------------------------------------------------------------------------

    async def wait_until(
        self,
        condition: Callable[[], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the requested API
        description: str | Callable[[], str] = "condition",
    ) -> None:
        """Wait (on an ``asyncio.Condition``, no polling) until ``condition()`` is true.

        The condition is re-checked whenever the fake records a call/response post.
        """
        try:
            async with asyncio.timeout(timeout), self._cond:
                await self._cond.wait_for(condition)
        except TimeoutError:
            desc = description() if callable(description) else description
            raise AssertionError(f"timed out after {timeout}s waiting for {desc}") from None

    async def wait_for_call(
        self,
        method: str,
        predicate: Predicate | None = None,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the requested API
    ) -> Call:
        """Wait until ``count`` calls to ``method`` (matching ``predicate``) were answered.

        Returns the ``count``-th matching call (``fake.calls_to(method)`` has them all).
        """

        def matching() -> list[Call]:
            return [
                c for c in self.calls if c.method == method and (predicate is None or predicate(c))
            ]

        def describe() -> str:
            seen = [f"{c.method}({c.error or 'ok'})" for c in self.calls]
            return f"{count} call(s) to {method} (got {len(matching())}); all calls: {seen}"

        await self.wait_until(lambda: len(matching()) >= count, timeout, describe)
        return matching()[count - 1]

    async def wait_for_response(
        self,
        predicate: Callable[[ResponsePost], bool] | None = None,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the requested API
    ) -> ResponsePost:
        """Wait until ``count`` response-URL posts (matching ``predicate``) arrived."""

        def matching() -> list[ResponsePost]:
            return [r for r in self.responses if predicate is None or predicate(r)]

        await self.wait_until(
            lambda: len(matching()) >= count,
            timeout,
            lambda: f"{count} response_url post(s) (got {len(matching())})",
        )
        return matching()[count - 1]

    async def _changed(self) -> None:
        async with self._cond:
            self._cond.notify_all()

    # -- HTTP handlers -----------------------------------------------------------------------

    async def _read_params(
        self, request: web.Request
    ) -> tuple[JSONDict, Literal["json", "form", "multipart", "query"]]:
        params: JSONDict = dict(request.query)
        encoding: Literal["json", "form", "multipart", "query"] = "query"
        ctype = request.content_type
        if request.method == "POST":
            if ctype == "application/json":
                raw = await request.read()
                if raw:
                    try:
                        body = json.loads(raw)
                    except ValueError as e:
                        raise _ApiError("invalid_json") from e
                    if not isinstance(body, dict):
                        raise _ApiError("invalid_json")
                    params.update(body)
                encoding = "json"
            elif ctype == "multipart/form-data":
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, (str, bytes, bytearray)):
                        params[key] = value
                    else:
                        params[key] = {
                            "filename": value.filename,
                            "content_type": value.content_type,
                        }
                encoding = "multipart"
            else:
                raw = await request.read()
                if raw:
                    params.update(urllib.parse.parse_qsl(raw.decode(), keep_blank_values=True))
                    encoding = "form"
        return params, encoding

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        headers = CIMultiDictProxy(CIMultiDict(request.headers))
        status = 200
        extra_headers: dict[str, str] = {"X-OAuth-Scopes": ",".join(self.scopes)}
        raw: JSONDict = {}
        params: JSONDict = {}
        encoding: Literal["json", "form", "multipart", "query"] = "query"
        unhandled = False
        late = 0.0
        try:
            raw, encoding = await self._read_params(request)
            params = self._decode_params(raw)
            handler = self._methods.get(method)
            if handler is None:
                unhandled = True
                raise _ApiError("unknown_method", req_method=method)
            self._check_token(headers, raw)
            injection = self._pop_injection(method)
            if injection is not None and injection.kind == "hold":
                assert injection.release is not None
                await injection.release.wait()
                injection = None
            late = injection.delay if injection is not None and injection.kind == "slow" else 0.0
            if late:
                injection = None
            if injection is not None and injection.kind == "ratelimit":
                status = 429
                extra_headers["Retry-After"] = str(injection.retry_after)
                body: JSONDict = {"ok": False, "error": "ratelimited"}
            elif injection is not None:
                status = injection.status
                body = {"ok": False, "error": injection.error, **injection.extra}
            else:
                body = {"ok": True, **handler(params)}
        except _ApiError as e:
            status = e.status
            body = {"ok": False, "error": e.error, **e.extra}
        except Exception as e:  # a bug in the fake itself: answer 500 and fail the test loudly
            unhandled = True
            status = 500
            body = {"ok": False, "error": "fake_internal_error", "detail": repr(e)}
        call = Call(
            method=method,
            params=params,
            headers=headers,
            http_method=request.method,
            encoding=encoding,
            status=status,
            response=copy.deepcopy(body),
            raw_params=raw,
            at=time.monotonic(),
        )
        self.calls.append(call)
        if unhandled:
            self.unhandled.append(call)
        await self._changed()
        if late:  # carried out; the answer is late (a slow Web API)
            await asyncio.sleep(late)
        return web.json_response(body, status=status, headers=extra_headers)

    async def _handle_unknown_path(self, request: web.Request) -> web.Response:
        raw = await request.read()
        call = Call(
            method=f"{request.method} {request.path}",
            params={"body": raw.decode(errors="replace")},
            headers=CIMultiDictProxy(CIMultiDict(request.headers)),
            http_method=request.method,
            status=404,
            response={"ok": False, "error": "not_found"},
            at=time.monotonic(),
        )
        self.calls.append(call)
        self.unhandled.append(call)
        await self._changed()
        return web.json_response({"ok": False, "error": "not_found"}, status=404)

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        rid = request.match_info["rid"]
        target = self._response_urls.get(rid)
        headers = CIMultiDictProxy(CIMultiDict(request.headers))
        raw = await request.read()
        body: JSONDict = {}
        status, effect, text, message_ts = 200, "", "ok", None
        try:
            parsed = json.loads(raw) if raw else {}
            if not isinstance(parsed, dict):
                raise ValueError("not an object")
            body = parsed
        except ValueError:
            status, text = 400, "invalid_payload"
        if status == 200:
            if target is None:
                status, text = 404, "no_active_hooks"
            elif self.response_url_max_uses is not None and (
                target.uses >= self.response_url_max_uses
            ):
                status, text = 404, "used_url"
            else:
                try:
                    effect, message_ts = self._apply_response(target, body)
                    target.uses += 1
                except _ApiError as e:
                    status, text = 400, e.error
        if status != 200:
            effect = f"error:{text}"
        post = ResponsePost(
            url=str(request.url),
            target=copy.copy(target) if target is not None else None,
            body=body,
            headers=headers,
            status=status,
            effect=effect,
            message_ts=message_ts,
            at=time.monotonic(),
        )
        self.responses.append(post)
        if target is None:
            self.unhandled.append(
                Call(
                    method=f"POST {request.path}",
                    params=body,
                    headers=headers,
                    status=404,
                    response={"ok": False, "error": text},
                    at=time.monotonic(),
                )
            )
        await self._changed()
        return web.Response(status=status, text=text, content_type="text/plain")

    def _apply_response(self, target: ResponseUrl, body: JSONDict) -> tuple[str, str | None]:
        blocks = body.get("blocks")
        if blocks is not None and self.validate:
            problems = validate_blocks(blocks)
            if problems:
                raise _ApiError("invalid_blocks")
        has_content = any(body.get(k) for k in ("text", "blocks", "attachments"))
        if _truthy(body.get("delete_original")):
            if target.is_ephemeral:
                self.ephemerals = [e for e in self.ephemerals if e["ts"] != target.message_ts]
            elif target.channel_id and target.message_ts:
                self._delete_message(target.channel_id, target.message_ts)
            return "deleted", target.message_ts
        if not has_content:
            raise _ApiError("no_text")
        if _truthy(body.get("replace_original")) and target.message_ts and target.channel_id:
            if target.is_ephemeral:
                for eph in self.ephemerals:
                    if eph["ts"] == target.message_ts:
                        eph["text"] = body.get("text", eph.get("text"))
                        if "blocks" in body:
                            eph["blocks"] = _normalize_blocks(body["blocks"] or [])
                return "replaced", target.message_ts
            msg = self.messages.get(target.channel_id, {}).get(target.message_ts)
            if msg is not None:
                self._update_message(target.channel_id, msg, body)
                return "replaced", target.message_ts
        thread_ts = body.get("thread_ts")
        if body.get("response_type") == "in_channel" and target.channel_id:
            msg = self._bot_message(body)
            stored = self._store_message(target.channel_id, msg, thread_ts=thread_ts)
            return "in_channel", stored["ts"]
        eph = self._store_ephemeral(
            target.channel_id, target.user_id, body, thread_ts=thread_ts, source="response_url"
        )
        return "ephemeral", eph["ts"]

    # -- helpers -----------------------------------------------------------------------------

    @staticmethod
    def _decode_params(raw: JSONDict) -> JSONDict:
        params = dict(raw)
        for key in _JSON_FIELDS:
            value = params.get(key)
            if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
                # left as a string if it does not parse; the method handler reports it
                with contextlib.suppress(ValueError):
                    params[key] = json.loads(value)
        return params

    def _check_token(self, headers: Mapping[str, str], raw: JSONDict) -> None:
        auth = headers.get("Authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else raw.get("token")
        if not token:
            raise _ApiError("not_authed")
        if token != self.bot_token:
            raise _ApiError("invalid_auth")

    def _next_ts(self) -> str:
        micros = self._first_ts * 1_000_000 + next(self._ts_seq) * 100
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _next_view_id(self) -> str:
        return f"V0FAKE{next(self._id_seq):05d}"

    def _new_hash(self) -> str:
        return f"{self._first_ts}.{secrets.token_hex(4)}"

    def _resolve_channel(self, value: Any, *, for_post: bool = False) -> JSONDict:
        if not value or not isinstance(value, str):
            raise _ApiError("channel_not_found")
        if value.startswith("#"):
            for ch in self.channels.values():
                if ch["name"] == value[1:]:
                    value = ch["id"]
                    break
            else:
                raise _ApiError("channel_not_found")
        if _USER_ID_RE.fullmatch(value):  # posting to a user id opens the DM
            if value not in self.users:
                raise _ApiError("channel_not_found")
            dm = f"D{value[1:]}"
            if dm not in self.channels:
                self.add_channel(dm, user=value)
            value = dm
        channel = self.channels.get(value)
        if channel is None:
            if not (self.auto_create_channels and _CHANNEL_ID_RE.fullmatch(value)):
                raise _ApiError("channel_not_found")
            self.add_channel(value)
            channel = self.channels[value]
        if for_post:
            if channel["is_archived"]:
                raise _ApiError("is_archived")
            if not channel["is_member"] and not channel["is_im"]:
                raise _ApiError("not_in_channel")
        return channel

    def _parsed_blocks(self, params: JSONDict) -> list[Any] | None:
        if "blocks" not in params or params["blocks"] is None:
            return None
        blocks = params["blocks"]
        if isinstance(blocks, str):
            if not blocks.strip():
                return None
            raise _ApiError("invalid_blocks_format")
        if not isinstance(blocks, list):
            raise _ApiError("invalid_blocks_format")
        if self.validate:
            problems = validate_blocks(blocks, surface="message")
            if problems:
                raise _invalid("invalid_blocks", problems)
        return blocks

    def _bot_message(self, params: Mapping[str, Any]) -> JSONDict:
        msg: JSONDict = {
            "user": self.bot_user_id,
            "type": "message",
            "ts": self._next_ts(),
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "text": params.get("text") or "",
            "team": self.team_id,
            "bot_profile": {
                "id": self.bot_id,
                "app_id": self.app_id,
                "name": self.bot_name,
                "icons": {},
                "deleted": False,
                "updated": self._first_ts,
                "team_id": self.team_id,
            },
        }
        blocks = params.get("blocks")
        if isinstance(blocks, list) and blocks:
            msg["blocks"] = _normalize_blocks(blocks)
        if params.get("attachments"):
            msg["attachments"] = copy.deepcopy(params["attachments"])
        if isinstance(params.get("metadata"), dict):
            msg["metadata"] = copy.deepcopy(params["metadata"])
        return msg

    def _store_message(
        self, channel: str, msg: JSONDict, *, thread_ts: str | None = None
    ) -> JSONDict:
        msgs = self.messages.setdefault(channel, {})
        ts = msg["ts"]
        if thread_ts:
            thread_ts = str(thread_ts)
            parent = msgs.get(thread_ts)
            if parent is not None and parent.get("thread_ts") not in (None, parent["ts"]):
                thread_ts = str(parent["thread_ts"])  # replying to a reply -> same thread
                parent = msgs.get(thread_ts)
            msg["thread_ts"] = thread_ts
            if parent is not None:
                msg["parent_user_id"] = parent.get("user")
                parent["thread_ts"] = thread_ts
                parent["reply_count"] = int(parent.get("reply_count", 0)) + 1
                users = list(parent.get("reply_users", []))
                if msg.get("user") and msg["user"] not in users:
                    users.append(msg["user"])
                parent["reply_users"] = users
                parent["reply_users_count"] = len(users)
                parent["latest_reply"] = ts
        msgs[ts] = msg
        self._versions[(channel, ts)] = [copy.deepcopy(msg)]
        self._post_order.append((channel, ts))
        return msg

    def _update_message(self, channel: str, msg: JSONDict, params: Mapping[str, Any]) -> None:
        if "text" in params and params["text"] is not None:
            msg["text"] = params["text"]
        if "blocks" in params and params["blocks"] is not None:
            blocks = params["blocks"]
            if isinstance(blocks, list) and blocks:
                msg["blocks"] = _normalize_blocks(blocks)
            else:
                msg.pop("blocks", None)
        if "attachments" in params and params["attachments"] is not None:
            if params["attachments"]:
                msg["attachments"] = copy.deepcopy(params["attachments"])
            else:
                msg.pop("attachments", None)
        if isinstance(params.get("metadata"), dict):
            msg["metadata"] = copy.deepcopy(params["metadata"])
        msg["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        self._versions.setdefault((channel, msg["ts"]), []).append(copy.deepcopy(msg))

    def _delete_message(self, channel: str, ts: str) -> None:
        msg = self.messages.get(channel, {}).pop(ts, None)
        if msg is not None:
            self.deleted_messages.append((channel, msg))

    def _store_ephemeral(
        self,
        channel: str | None,
        user: str | None,
        params: Mapping[str, Any],
        *,
        thread_ts: Any = None,
        source: str,
    ) -> JSONDict:
        eph: JSONDict = {
            "channel": channel,
            "user": user,
            "ts": self._next_ts(),
            "text": params.get("text") or "",
            "blocks": _normalize_blocks(params.get("blocks") or []),
            "thread_ts": thread_ts,
            "source": source,
        }
        self.ephemerals.append(eph)
        return eph

    def _find_any_message(self, channel: str, ts: Any) -> JSONDict:
        msg = self.messages.get(channel, {}).get(str(ts)) if ts else None
        if msg is None:
            raise _ApiError("message_not_found")
        return msg

    # -- Web API methods ---------------------------------------------------------------------

    def _auth_test(self, params: JSONDict) -> JSONDict:
        return {
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_name,
            "user": self.bot_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, params: JSONDict) -> JSONDict:
        channel = self._resolve_channel(params.get("channel"), for_post=True)
        blocks = self._parsed_blocks(params)
        text = params.get("text")
        if not text and not blocks and not params.get("attachments"):
            raise _ApiError("no_text")
        if isinstance(text, str) and len(text) > 40000:
            raise _ApiError("msg_too_long")
        msg = self._bot_message({**params, "blocks": blocks})
        if _truthy(params.get("reply_broadcast")) and params.get("thread_ts"):
            msg["subtype"] = "thread_broadcast"
        stored = self._store_message(channel["id"], msg, thread_ts=params.get("thread_ts"))
        return {"channel": channel["id"], "ts": stored["ts"], "message": copy.deepcopy(stored)}

    def _chat_update(self, params: JSONDict) -> JSONDict:
        channel = self._resolve_channel(params.get("channel"))
        msg = self._find_any_message(channel["id"], params.get("ts"))
        if msg.get("user") != self.bot_user_id:
            raise _ApiError("cant_update_message")
        blocks = self._parsed_blocks(params)
        if params.get("text") is None and "blocks" not in params and "attachments" not in params:
            raise _ApiError("no_text")
        self._update_message(channel["id"], msg, {**params, "blocks": blocks})
        return {
            "channel": channel["id"],
            "ts": msg["ts"],
            "text": msg.get("text", ""),
            "message": copy.deepcopy(msg),
        }

    def _chat_post_ephemeral(self, params: JSONDict) -> JSONDict:
        channel = self._resolve_channel(params.get("channel"), for_post=True)
        user = params.get("user")
        if not user:
            raise _ApiError("user_not_found")
        if str(user) not in self.users:
            raise _ApiError("user_not_in_channel")
        blocks = self._parsed_blocks(params)
        if not params.get("text") and not blocks and not params.get("attachments"):
            raise _ApiError("no_text")
        eph = self._store_ephemeral(
            channel["id"],
            str(user),
            {**params, "blocks": blocks},
            thread_ts=params.get("thread_ts"),
            source="chat.postEphemeral",
        )
        return {"message_ts": eph["ts"]}

    def _chat_delete(self, params: JSONDict) -> JSONDict:
        channel = self._resolve_channel(params.get("channel"))
        msg = self._find_any_message(channel["id"], params.get("ts"))
        if msg.get("user") != self.bot_user_id:
            raise _ApiError("cant_delete_message")
        self._delete_message(channel["id"], msg["ts"])
        return {"channel": channel["id"], "ts": msg["ts"]}

    def _chat_get_permalink(self, params: JSONDict) -> JSONDict:
        channel = self._resolve_channel(params.get("channel"))
        msg = self._find_any_message(channel["id"], params.get("message_ts"))
        link = (
            f"https://{self.team_domain}.slack.com/archives/{channel['id']}/"
            f"p{msg['ts'].replace('.', '')}"
        )
        if msg.get("thread_ts") not in (None, msg["ts"]):
            link += f"?thread_ts={msg['thread_ts']}&cid={channel['id']}"
        return {"channel": channel["id"], "permalink": link}

    def _consume_trigger(self, trigger_id: Any) -> _Trigger:
        if not trigger_id:
            raise _invalid("invalid_arguments", ["missing required field: trigger_id"])
        trigger = self._triggers.get(str(trigger_id))
        if trigger is None:
            raise _ApiError("invalid_trigger_id")
        if trigger.used:
            raise _ApiError("exchanged_trigger_id")
        if self.trigger_ttl is not None and time.monotonic() - trigger.issued > self.trigger_ttl:
            raise _ApiError("expired_trigger_id")
        trigger.used = True
        return trigger

    def _view_spec(self, params: JSONDict, kinds: Sequence[str] = ("modal",)) -> JSONDict:
        spec = params.get("view")
        if isinstance(spec, str) or not isinstance(spec, dict):
            raise _invalid("invalid_arguments", ["view must be a JSON object"])
        if self.validate:
            problems = validate_view(spec, kinds=kinds)
            if problems:
                raise _invalid("invalid_arguments", problems)
        return spec

    def _build_view(
        self,
        spec: Mapping[str, Any],
        *,
        user_id: str | None,
        view_id: str | None = None,
        root_view_id: str | None = None,
        previous_view_id: str | None = None,
    ) -> JSONDict:
        vid = view_id or self._next_view_id()
        blocks = _normalize_blocks(spec.get("blocks") or [])
        view: JSONDict = {
            "id": vid,
            "team_id": self.team_id,
            "type": spec.get("type", "modal"),
            "blocks": blocks,
            "private_metadata": spec.get("private_metadata", ""),
            "callback_id": spec.get("callback_id", ""),
            "state": {"values": _state_values(blocks, only_input_blocks=True)},
            "hash": self._new_hash(),
            "title": _normalize_text_objects(copy.deepcopy(spec.get("title"))),
            "clear_on_close": bool(spec.get("clear_on_close", False)),
            "notify_on_close": bool(spec.get("notify_on_close", False)),
            "close": _normalize_text_objects(copy.deepcopy(spec.get("close"))),
            "submit": _normalize_text_objects(copy.deepcopy(spec.get("submit"))),
            "previous_view_id": previous_view_id,
            "root_view_id": root_view_id or vid,
            "app_id": self.app_id,
            "external_id": spec.get("external_id", ""),
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        self.views[vid] = view
        if user_id is not None:
            view["_user_id"] = user_id
        return view

    @staticmethod
    def _public_view(view: JSONDict) -> JSONDict:
        return {k: copy.deepcopy(v) for k, v in view.items() if not k.startswith("_")}

    def _views_open(self, params: JSONDict) -> JSONDict:
        trigger = self._consume_trigger(params.get("trigger_id"))
        spec = self._view_spec(params)
        view = self._build_view(spec, user_id=trigger.user_id)
        if trigger.user_id is not None:
            self._view_stacks[trigger.user_id] = [view["id"]]
        return {"view": self._public_view(view)}

    def _views_push(self, params: JSONDict) -> JSONDict:
        trigger = self._consume_trigger(params.get("trigger_id"))
        spec = self._view_spec(params)
        stack = self._view_stacks.get(trigger.user_id or "", [])
        if len(stack) >= 3:
            raise _ApiError("push_limit_reached")
        previous = stack[-1] if stack else None
        root = self.views[stack[0]]["root_view_id"] if stack else None
        view = self._build_view(
            spec, user_id=trigger.user_id, root_view_id=root, previous_view_id=previous
        )
        if trigger.user_id is not None:
            self._view_stacks.setdefault(trigger.user_id, []).append(view["id"])
        return {"view": self._public_view(view)}

    def _views_update(self, params: JSONDict) -> JSONDict:
        view_id = params.get("view_id")
        external_id = params.get("external_id")
        current: JSONDict | None = None
        if view_id:
            current = self.views.get(str(view_id))
        elif external_id:
            current = next(
                (v for v in self.views.values() if v.get("external_id") == external_id), None
            )
        else:
            raise _invalid("invalid_arguments", ["view_id or external_id is required"])
        if current is None:
            raise _ApiError("not_found")
        if params.get("hash") and params["hash"] != current["hash"]:
            raise _ApiError("hash_conflict")
        spec = self._view_spec(params, kinds=(str(current["type"]),))
        view = self._build_view(
            spec,
            user_id=current.get("_user_id"),
            view_id=current["id"],
            root_view_id=current["root_view_id"],
            previous_view_id=current["previous_view_id"],
        )
        return {"view": self._public_view(view)}

    def _views_publish(self, params: JSONDict) -> JSONDict:
        user_id = params.get("user_id")
        if not user_id or str(user_id) not in self.users:
            raise _ApiError("user_not_found")
        existing = self.home_tabs.get(str(user_id))
        if existing and params.get("hash") and params["hash"] != existing["hash"]:
            raise _ApiError("hash_conflict")
        spec = self._view_spec(params, kinds=("home",))
        view = self._build_view(
            spec, user_id=str(user_id), view_id=existing["id"] if existing else None
        )
        self.home_tabs[str(user_id)] = view
        return {"view": self._public_view(view)}

    def apply_view_ack(self, user_id: str, view_id: str, ack_body: str) -> None:
        """Apply what the app answered to a ``view_submission`` (the events client calls this).

        An empty ack closes the view. ``response_action`` ``update``/``push``/``clear`` do what
        Slack does. ``errors`` leaves the view open.
        """
        stack = self._view_stacks.setdefault(user_id, [])
        data: Any = None
        if ack_body.strip():
            try:
                data = json.loads(ack_body)
            except ValueError:
                data = None
        action = data.get("response_action") if isinstance(data, dict) else None
        if action is None:
            if view_id in stack:
                stack.remove(view_id)
        elif action == "clear":
            stack.clear()
        elif action == "update" and view_id in self.views and isinstance(data, dict):
            current = self.views[view_id]
            self._build_view(
                data.get("view") or {},
                user_id=user_id,
                view_id=view_id,
                root_view_id=current["root_view_id"],
                previous_view_id=current["previous_view_id"],
            )
        elif action == "push" and isinstance(data, dict):
            root = self.views[stack[0]]["root_view_id"] if stack else None
            pushed = self._build_view(
                data.get("view") or {},
                user_id=user_id,
                root_view_id=root,
                previous_view_id=stack[-1] if stack else None,
            )
            stack.append(pushed["id"])

    def close_view(self, user_id: str, view_id: str | None = None) -> None:
        stack = self._view_stacks.get(user_id, [])
        if view_id is None:
            stack.clear()
        elif view_id in stack:
            stack.remove(view_id)

    def _conversations_info(self, params: JSONDict) -> JSONDict:
        channel = self._resolve_channel(params.get("channel"))
        return {"channel": copy.deepcopy(channel)}

    def _conversations_open(self, params: JSONDict) -> JSONDict:
        users = params.get("users")
        if isinstance(users, list):
            users = ",".join(users)
        ids = [u for u in str(users or "").split(",") if u]
        if len(ids) != 1:
            raise _ApiError("not_enough_users" if not ids else "method_not_supported_for_mpim")
        channel = self._resolve_channel(ids[0])
        return {"channel": {"id": channel["id"]}}

    def _conversations_history(self, params: JSONDict) -> JSONDict:
        channel = self._resolve_channel(params.get("channel"))
        msgs = list(reversed(self.channel_messages(channel["id"])))
        limit = int(params.get("limit") or 100)
        return {"messages": msgs[:limit], "has_more": len(msgs) > limit, "pin_count": 0}

    def _conversations_replies(self, params: JSONDict) -> JSONDict:
        channel = self._resolve_channel(params.get("channel"))
        parent = self._find_any_message(channel["id"], params.get("ts"))
        thread_ts = parent.get("thread_ts") or parent["ts"]
        root = self.messages[channel["id"]].get(thread_ts, parent)
        msgs = [copy.deepcopy(root), *self.thread_replies(channel["id"], thread_ts)]
        return {"messages": msgs, "has_more": False}

    def _users_info(self, params: JSONDict) -> JSONDict:
        user = self.users.get(str(params.get("user") or ""))
        if user is None:
            raise _ApiError("user_not_found")
        return {"user": copy.deepcopy(user)}


# --------------------------------------------------------------------------------------------
# Signed requests to the app
# --------------------------------------------------------------------------------------------


def sign_request(signing_secret: str, timestamp: int | str, body: bytes | str) -> str:
    """Slack's signature: ``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{body}``."""
    raw = body.encode() if isinstance(body, str) else body
    base = f"v0:{timestamp}:".encode() + raw
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SlackRequest:
    """A request body as Slack would send it. It is signed when sent, so it can be re-sent."""

    kind: str
    """``slash_command``, ``block_actions``, ``view_submission``, ``event_callback``, ..."""
    body: bytes
    content_type: str
    payload: JSONDict
    """The decoded content: form fields (slash commands), ``payload`` JSON, or event envelope."""
    response_url: str | None = None
    trigger_id: str | None = None


@dataclass(frozen=True)
class SlackHttpResult:
    """The app's HTTP answer; unpacks as ``status, body = result``."""

    status: int
    body: str
    headers: Mapping[str, str]
    request: SlackRequest

    def __iter__(self) -> Iterator[Any]:
        yield self.status
        yield self.body

    def json(self) -> Any:
        """The body parsed as JSON (``None`` if empty)."""
        return json.loads(self.body) if self.body.strip() else None


class SendOptions(TypedDict, total=False):
    """Ways to send a broken request, e.g. to check that it is rejected."""

    signing_secret: str
    """Sign with this secret instead (a wrong secret gives a wrong signature)."""
    bad_signature: bool
    """Send ``v0=000...`` as the signature."""
    timestamp: int
    """Use this ``X-Slack-Request-Timestamp`` (signature computed over it)."""
    stale: bool
    """Timestamp ``STALE_SECONDS`` (10 min) in the past, correctly signed."""
    omit_headers: Sequence[str]
    """Header names to leave out, e.g. ``["X-Slack-Signature"]``."""
    headers: Mapping[str, str]
    """Extra/overriding headers."""


class SlackEventsClient:
    """Sends Slack-shaped, correctly signed requests to an app's ``/slack/events`` endpoint.

    ``app_url`` is the endpoint URL. A bare base URL (no path) gets ``path`` added. With
    ``fake=`` the client gets response URLs and trigger ids from the fake, registers the users
    and channels it mentions, looks messages up by ts, and stores user messages created by
    ``message_event``. Use as ``async with`` to share one HTTP session. Without it, each
    request opens its own session.
    """

    def __init__(
        self,
        app_url: str,
        signing_secret: str,
        *,
        fake: FakeSlack | None = None,
        path: str = "/slack/events",
        team_id: str | None = None,
        team_domain: str | None = None,
        api_app_id: str | None = None,
        bot_user_id: str | None = None,
        verification_token: str = "fake-verification-token",  # noqa: S107 - not a secret
        enterprise_id: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        parsed = urllib.parse.urlsplit(app_url)
        self.url = app_url.rstrip("/") + path if parsed.path in ("", "/") else app_url
        self.signing_secret = signing_secret
        self.fake = fake
        self.team_id = team_id or (fake.team_id if fake else DEFAULT_TEAM_ID)
        self.team_domain = team_domain or (fake.team_domain if fake else "townhall-test")
        self.api_app_id = api_app_id or (fake.app_id if fake else "A0TEST")
        self.bot_user_id = bot_user_id or (fake.bot_user_id if fake else DEFAULT_BOT_USER_ID)
        self.verification_token = verification_token
        self.enterprise_id = enterprise_id
        self.timeout = timeout
        self.sent: list[tuple[SlackRequest, SlackHttpResult]] = []
        self._session: aiohttp.ClientSession | None = None
        self._seq = itertools.count(1)

    async def __aenter__(self) -> SlackEventsClient:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    # -- sending -----------------------------------------------------------------------------

    def signed_headers(
        self,
        request: SlackRequest,
        *,
        retry_num: int | None = None,
        retry_reason: str | None = None,
        **opts: Unpack[SendOptions],
    ) -> dict[str, str]:
        now = int(time.time())
        ts = opts.get("timestamp", now - STALE_SECONDS if opts.get("stale") else now)
        secret = opts.get("signing_secret", self.signing_secret)
        signature = sign_request(secret, ts, request.body)
        if opts.get("bad_signature"):
            signature = "v0=" + "0" * 64
        headers = {
            "Content-Type": request.content_type,
            "User-Agent": SLACK_USER_AGENT,
            "Accept": "application/json,*/*",
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": signature,
        }
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
        omit = {h.lower() for h in opts.get("omit_headers", ())}
        headers = {k: v for k, v in headers.items() if k.lower() not in omit}
        headers.update(opts.get("headers", {}))
        return headers

    async def send(
        self,
        request: SlackRequest,
        *,
        retry_num: int | None = None,
        retry_reason: str | None = None,
        **opts: Unpack[SendOptions],
    ) -> SlackHttpResult:
        """Sign (fresh timestamp) and POST ``request``; re-sending gives a duplicate delivery."""
        headers = self.signed_headers(
            request, retry_num=retry_num, retry_reason=retry_reason, **opts
        )
        if self._session is not None:
            result = await self._post(self._session, request, headers)
        else:
            timeout = aiohttp.ClientTimeout(total=self.timeout)
            async with aiohttp.ClientSession(timeout=timeout) as session:
                result = await self._post(session, request, headers)
        self.sent.append((request, result))
        return result

    async def _post(
        self, session: aiohttp.ClientSession, request: SlackRequest, headers: dict[str, str]
    ) -> SlackHttpResult:
        async with session.post(self.url, data=request.body, headers=headers) as resp:
            text = await resp.text()
            return SlackHttpResult(
                status=resp.status,
                body=text,
                headers=CIMultiDictProxy(CIMultiDict(resp.headers)),
                request=request,
            )

    # -- shared payload bits -----------------------------------------------------------------

    def _register(self, user_id: str | None, channel_id: str | None = None) -> None:
        if self.fake is None:
            return
        if user_id:
            self.fake.ensure_user(user_id)
        if channel_id:
            self.fake.ensure_channel(channel_id)

    def _user_name(self, user_id: str) -> str:
        if self.fake is not None and user_id in self.fake.users:
            return str(self.fake.users[user_id]["name"])
        return user_id.lower()

    def _channel_name(self, channel_id: str) -> str:
        if channel_id.startswith("D"):
            return "directmessage"
        if self.fake is not None and channel_id in self.fake.channels:
            channel = self.fake.channels[channel_id]
            return "privategroup" if channel["is_group"] else str(channel["name"])
        return channel_id.lower()

    def _user(self, user_id: str) -> JSONDict:
        name = self._user_name(user_id)
        return {"id": user_id, "username": name, "name": name, "team_id": self.team_id}

    def _team(self) -> JSONDict:
        return {"id": self.team_id, "domain": self.team_domain}

    def _enterprise(self) -> JSONDict | None:
        if self.enterprise_id is None:
            return None
        return {"id": self.enterprise_id, "name": "Fake Enterprise"}

    def _response_url(
        self,
        kind: str,
        channel_id: str | None,
        user_id: str | None,
        message_ts: str | None = None,
        is_ephemeral: bool = False,
    ) -> str:
        if self.fake is not None:
            return self.fake.new_response_url(
                kind=kind,
                channel_id=channel_id,
                user_id=user_id,
                message_ts=message_ts,
                is_ephemeral=is_ephemeral,
            )
        n = next(self._seq)
        return f"https://hooks.slack.com/actions/{self.team_id}/{n}/{secrets.token_hex(12)}"

    def _trigger_id(self, user_id: str | None) -> str:
        if self.fake is not None:
            return self.fake.new_trigger_id(user_id)
        return f"{next(self._seq)}.{int(time.time())}.{secrets.token_hex(16)}"

    def _interaction(self, kind: str, payload: JSONDict, **extra: Any) -> SlackRequest:
        body = urllib.parse.urlencode({"payload": _compact(payload)}).encode()
        return SlackRequest(
            kind=kind,
            body=body,
            content_type="application/x-www-form-urlencoded",
            payload=payload,
            **extra,
        )

    def _resolve_message(
        self, channel_id: str, message: Mapping[str, Any] | str, is_ephemeral: bool
    ) -> JSONDict:
        if not isinstance(message, str):
            return copy.deepcopy(dict(message))
        if self.fake is None:
            raise ValueError("pass the message dict (no fake attached to look up a ts)")
        if is_ephemeral:
            for eph in self.fake.ephemerals:
                if eph["ts"] == message:
                    return {"type": "message", "ts": message, "text": eph["text"], **eph}
            raise KeyError(f"no ephemeral message {message!r}")
        return self.fake.message(channel_id, message)

    # -- slash commands ----------------------------------------------------------------------

    def build_slash_command(
        self,
        user_id: str,
        channel_id: str,
        text: str = "",
        command: str = "/townhall",
        *,
        user_name: str | None = None,
        channel_name: str | None = None,
        response_url: str | None = None,
        trigger_id: str | None = None,
    ) -> SlackRequest:
        self._register(user_id, channel_id)
        response_url = response_url or self._response_url("slash_command", channel_id, user_id)
        trigger_id = trigger_id or self._trigger_id(user_id)
        fields: list[tuple[str, str]] = [
            ("token", self.verification_token),
            ("team_id", self.team_id),
            ("team_domain", self.team_domain),
        ]
        if self.enterprise_id:
            fields += [("enterprise_id", self.enterprise_id), ("enterprise_name", "Fake")]
        fields += [
            ("channel_id", channel_id),
            ("channel_name", channel_name or self._channel_name(channel_id)),
            ("user_id", user_id),
            ("user_name", user_name or self._user_name(user_id)),
            ("command", command),
            ("text", text),
            ("api_app_id", self.api_app_id),
            ("is_enterprise_install", "false"),
            ("response_url", response_url),
            ("trigger_id", trigger_id),
        ]
        return SlackRequest(
            kind="slash_command",
            body=urllib.parse.urlencode(fields).encode(),
            content_type="application/x-www-form-urlencoded",
            payload=dict(fields),
            response_url=response_url,
            trigger_id=trigger_id,
        )

    async def slash_command(
        self,
        user_id: str,
        channel_id: str,
        text: str = "",
        command: str = "/townhall",
        *,
        user_name: str | None = None,
        channel_name: str | None = None,
        response_url: str | None = None,
        trigger_id: str | None = None,
        **send: Unpack[SendOptions],
    ) -> SlackHttpResult:
        """Send a slash command (form-encoded, like Slack)."""
        req = self.build_slash_command(
            user_id,
            channel_id,
            text,
            command,
            user_name=user_name,
            channel_name=channel_name,
            response_url=response_url,
            trigger_id=trigger_id,
        )
        return await self.send(req, **send)

    # -- block actions -----------------------------------------------------------------------

    def build_block_action(
        self,
        user_id: str,
        channel_id: str,
        message: Mapping[str, Any] | str,
        action_id: str,
        value: Any = None,
        block_id: str | None = None,
        *,
        element: Mapping[str, Any] | None = None,
        is_ephemeral: bool = False,
        response_url: str | None = None,
        trigger_id: str | None = None,
    ) -> SlackRequest:
        self._register(user_id, channel_id)
        msg = self._resolve_message(channel_id, message, is_ephemeral)
        blocks = msg.get("blocks") or []
        if element is None:
            found = find_element(blocks, action_id, block_id)
            if found is None:
                ids = [
                    (b.get("block_id"), el.get("action_id"))
                    for b in blocks
                    for el in _block_elements(b)
                ]
                raise LookupError(
                    f"message {msg.get('ts')!r} has no element action_id={action_id!r}"
                    f" block_id={block_id!r}; a user cannot click it. Present: {ids}"
                )
            el, found_block_id = found
            block_id = block_id or found_block_id
        else:
            el = dict(element)
            el.setdefault("action_id", action_id)
        block_id = block_id or _rand(5)
        action = _action_payload(el, block_id, value)
        state = _state_values(blocks, only_input_blocks=False)
        if el.get("type") not in ("button", "overflow") and block_id in state:
            acted = element_state(el, value)
            state[block_id][action_id] = acted
        response_url = response_url or self._response_url(
            "block_actions", channel_id, user_id, str(msg.get("ts")), is_ephemeral
        )
        trigger_id = trigger_id or self._trigger_id(user_id)
        container: JSONDict = {
            "type": "message",
            "message_ts": msg.get("ts"),
            "channel_id": channel_id,
            "is_ephemeral": is_ephemeral,
        }
        if msg.get("thread_ts") not in (None, msg.get("ts")):
            container["thread_ts"] = msg["thread_ts"]
        payload: JSONDict = {
            "type": "block_actions",
            "user": self._user(user_id),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "container": container,
            "trigger_id": trigger_id,
            "team": self._team(),
            "enterprise": self._enterprise(),
            "is_enterprise_install": False,
            "channel": {"id": channel_id, "name": self._channel_name(channel_id)},
        }
        if not is_ephemeral:
            payload["message"] = {k: v for k, v in msg.items() if k != "source"}
        payload["state"] = {"values": state}
        payload["response_url"] = response_url
        payload["actions"] = [action]
        return self._interaction(
            "block_actions", payload, response_url=response_url, trigger_id=trigger_id
        )

    async def block_action(
        self,
        user_id: str,
        channel_id: str,
        message: Mapping[str, Any] | str,
        action_id: str,
        value: Any = None,
        block_id: str | None = None,
        *,
        element: Mapping[str, Any] | None = None,
        is_ephemeral: bool = False,
        response_url: str | None = None,
        trigger_id: str | None = None,
        **send: Unpack[SendOptions],
    ) -> SlackHttpResult:
        """A user clicked/selected ``action_id`` in ``message`` (a dict, or a ts in the fake).

        The element is looked up in the message's blocks (``LookupError`` if absent). ``value``
        is a button value override, option value(s), user id, date, and so on.
        """
        req = self.build_block_action(
            user_id,
            channel_id,
            message,
            action_id,
            value,
            block_id,
            element=element,
            is_ephemeral=is_ephemeral,
            response_url=response_url,
            trigger_id=trigger_id,
        )
        return await self.send(req, **send)

    def build_view_block_action(
        self,
        user_id: str,
        view: Mapping[str, Any] | str,
        action_id: str,
        value: Any = None,
        block_id: str | None = None,
    ) -> SlackRequest:
        """``block_actions`` from an element inside a modal (``view`` dict or view id)."""
        if isinstance(view, str):
            if self.fake is None:
                raise ValueError("pass the view dict (no fake attached)")
            view = self.fake.view(view)
        v = FakeSlack._public_view(dict(view))
        found = find_element(v.get("blocks") or [], action_id, block_id)
        if found is None:
            raise LookupError(f"view {v.get('id')!r} has no element {action_id!r}")
        el, bid = found
        bid = block_id or bid or _rand(5)
        trigger_id = self._trigger_id(user_id)
        payload: JSONDict = {
            "type": "block_actions",
            "user": self._user(user_id),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "container": {"type": "view", "view_id": v.get("id")},
            "trigger_id": trigger_id,
            "team": self._team(),
            "enterprise": self._enterprise(),
            "is_enterprise_install": False,
            "view": v,
            "actions": [_action_payload(el, bid, value)],
        }
        return self._interaction("block_actions", payload, trigger_id=trigger_id)

    async def view_block_action(
        self,
        user_id: str,
        view: Mapping[str, Any] | str,
        action_id: str,
        value: Any = None,
        block_id: str | None = None,
        **send: Unpack[SendOptions],
    ) -> SlackHttpResult:
        req = self.build_view_block_action(user_id, view, action_id, value, block_id)
        return await self.send(req, **send)

    # -- views -------------------------------------------------------------------------------

    def _resolve_view(
        self, user_id: str, callback_id: str, view_id: str | None
    ) -> tuple[JSONDict, bool]:
        if self.fake is not None:
            found = (
                self.fake.view(view_id)
                if view_id
                else self.fake.find_view(callback_id=callback_id, user_id=user_id)
            )
            if found is not None:
                if found.get("callback_id") != callback_id:
                    raise ValueError(
                        f"view {found['id']} has callback_id {found.get('callback_id')!r},"
                        f" not {callback_id!r}"
                    )
                return FakeSlack._public_view(found), True
        vid = view_id or f"V0SYNTH{next(self._seq):04d}"
        synthetic: JSONDict = {
            "id": vid,
            "team_id": self.team_id,
            "type": "modal",
            "blocks": [],
            "private_metadata": "",
            "callback_id": callback_id,
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "title": {"type": "plain_text", "text": "Modal", "emoji": True},
            "clear_on_close": False,
            "notify_on_close": False,
            "close": None,
            "submit": {"type": "plain_text", "text": "Submit", "emoji": True},
            "previous_view_id": None,
            "root_view_id": vid,
            "app_id": self.api_app_id,
            "external_id": "",
            "app_installed_team_id": self.team_id,
            "bot_id": "B0BOT",
        }
        return synthetic, False

    def build_view_submission(
        self,
        user_id: str,
        view_callback_id: str,
        private_metadata: str | None = None,
        values: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        view_id: str | None = None,
    ) -> SlackRequest:
        """``values``: ``{block_id: {action_id: value}}``. A value is a full state dict (with
        ``type``) or a plain value converted for the element's type (see
        :func:`element_state`).

        If the view was opened through the fake, its blocks, id and hash are used. Unknown
        block_id/action_id pairs and empty required inputs raise, because Slack's client
        would not submit them.
        """
        self._register(user_id)
        view, known = self._resolve_view(user_id, view_callback_id, view_id)
        blocks: list[JSONDict] = view.get("blocks") or []
        state: dict[str, dict[str, JSONDict]] = (
            _state_values(blocks, only_input_blocks=True) if known else {}
        )
        for bid, actions in (values or {}).items():
            for aid, val in actions.items():
                found = find_element(blocks, aid, bid) if known else None
                if known and found is None:
                    raise LookupError(
                        f"view {view['id']} ({view_callback_id}) has no input {bid}/{aid}"
                    )
                el = found[0] if found else {"type": "plain_text_input", "action_id": aid}
                state.setdefault(bid, {})[aid] = element_state(el, val)
        if known:
            for block in blocks:
                if block.get("type") != "input" or block.get("optional"):
                    continue
                input_el: Mapping[str, Any] = block.get("element") or {}
                aid = str(input_el.get("action_id"))
                entry = state.get(str(block.get("block_id")), {}).get(aid)
                if entry is not None and all(
                    v in (None, [], "") for k, v in entry.items() if k != "type"
                ):
                    raise ValueError(
                        f"required input {block.get('block_id')}/{aid} is empty;"
                        " Slack would not let the user submit"
                    )
        view["state"] = {"values": state}
        if private_metadata is not None:
            view["private_metadata"] = private_metadata
        trigger_id = self._trigger_id(user_id)
        payload: JSONDict = {
            "type": "view_submission",
            "team": self._team(),
            "user": self._user(user_id),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "trigger_id": trigger_id,
            "view": view,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": self._enterprise(),
        }
        return self._interaction("view_submission", payload, trigger_id=trigger_id)

    async def view_submission(
        self,
        user_id: str,
        view_callback_id: str,
        private_metadata: str | None = None,
        values: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        view_id: str | None = None,
        **send: Unpack[SendOptions],
    ) -> SlackHttpResult:
        """Submit a modal. ``result.json()`` is the app's ``response_action``, if any.

        With a fake attached, the ack is applied to the user's modal stack.
        """
        req = self.build_view_submission(
            user_id, view_callback_id, private_metadata, values, view_id=view_id
        )
        result = await self.send(req, **send)
        if self.fake is not None and result.status == 200:
            self.fake.apply_view_ack(user_id, str(req.payload["view"]["id"]), result.body)
        return result

    def build_view_closed(
        self, user_id: str, view_callback_id: str, *, view_id: str | None = None
    ) -> SlackRequest:
        self._register(user_id)
        view, _ = self._resolve_view(user_id, view_callback_id, view_id)
        payload: JSONDict = {
            "type": "view_closed",
            "team": self._team(),
            "user": self._user(user_id),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "view": view,
            "is_cleared": False,
            "is_enterprise_install": False,
            "enterprise": self._enterprise(),
        }
        return self._interaction("view_closed", payload)

    async def view_closed(
        self,
        user_id: str,
        view_callback_id: str,
        *,
        view_id: str | None = None,
        **send: Unpack[SendOptions],
    ) -> SlackHttpResult:
        """The user closed a modal (Slack only sends this when ``notify_on_close`` is set)."""
        req = self.build_view_closed(user_id, view_callback_id, view_id=view_id)
        result = await self.send(req, **send)
        if self.fake is not None:
            self.fake.close_view(user_id, str(req.payload["view"]["id"]))
        return result

    # -- shortcuts ---------------------------------------------------------------------------

    def build_message_shortcut(
        self,
        user_id: str,
        channel_id: str,
        message: Mapping[str, Any] | str,
        callback_id: str,
    ) -> SlackRequest:
        self._register(user_id, channel_id)
        msg = self._resolve_message(channel_id, message, False)
        response_url = self._response_url("message_action", channel_id, user_id, msg.get("ts"))
        trigger_id = self._trigger_id(user_id)
        payload: JSONDict = {
            "type": "message_action",
            "token": self.verification_token,
            "action_ts": f"{time.time():.6f}",
            "team": self._team(),
            "user": self._user(user_id),
            "channel": {"id": channel_id, "name": self._channel_name(channel_id)},
            "is_enterprise_install": False,
            "enterprise": self._enterprise(),
            "callback_id": callback_id,
            "trigger_id": trigger_id,
            "response_url": response_url,
            "message_ts": msg.get("ts"),
            "message": msg,
        }
        return self._interaction(
            "message_action", payload, response_url=response_url, trigger_id=trigger_id
        )

    async def message_shortcut(
        self,
        user_id: str,
        channel_id: str,
        message: Mapping[str, Any] | str,
        callback_id: str,
        **send: Unpack[SendOptions],
    ) -> SlackHttpResult:
        """A message shortcut (``type: message_action``) on ``message`` (dict or ts)."""
        req = self.build_message_shortcut(user_id, channel_id, message, callback_id)
        return await self.send(req, **send)

    def build_global_shortcut(self, user_id: str, callback_id: str) -> SlackRequest:
        self._register(user_id)
        trigger_id = self._trigger_id(user_id)
        payload: JSONDict = {
            "type": "shortcut",
            "token": self.verification_token,
            "action_ts": f"{time.time():.6f}",
            "team": self._team(),
            "user": self._user(user_id),
            "is_enterprise_install": False,
            "enterprise": self._enterprise(),
            "callback_id": callback_id,
            "trigger_id": trigger_id,
        }
        return self._interaction("shortcut", payload, trigger_id=trigger_id)

    async def global_shortcut(
        self, user_id: str, callback_id: str, **send: Unpack[SendOptions]
    ) -> SlackHttpResult:
        return await self.send(self.build_global_shortcut(user_id, callback_id), **send)

    # -- Events API --------------------------------------------------------------------------

    def build_event(self, event: Mapping[str, Any], *, event_id: str | None = None) -> SlackRequest:
        """An ``event_callback`` envelope around ``event`` (``event_id`` random by default)."""
        event_ts = event.get("event_ts") or event.get("ts") or f"{time.time():.6f}"
        envelope: JSONDict = {
            "token": self.verification_token,
            "team_id": self.team_id,
            "context_team_id": self.team_id,
            "context_enterprise_id": self.enterprise_id,
            "api_app_id": self.api_app_id,
            "event": dict(event),
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._seq):03d}{_rand(8).upper()}",
            "event_time": int(float(event_ts)),
            "authorizations": [
                {
                    "enterprise_id": self.enterprise_id,
                    "team_id": self.team_id,
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{_rand(40)}",
        }
        return SlackRequest(
            kind="event_callback",
            body=_compact(envelope).encode(),
            content_type="application/json",
            payload=envelope,
        )

    async def event(
        self,
        event: Mapping[str, Any],
        event_id: str | None = None,
        retry_num: int | None = None,
        *,
        retry_reason: str | None = None,
        **send: Unpack[SendOptions],
    ) -> SlackHttpResult:
        """Deliver an Events API event; ``retry_num`` adds Slack's retry headers.

        For a true duplicate delivery re-send the same request:
        ``await client.send(result.request, retry_num=1)``.
        """
        req = self.build_event(event, event_id=event_id)
        return await self.send(req, retry_num=retry_num, retry_reason=retry_reason, **send)

    def _channel_type(self, channel: str) -> str:
        if channel.startswith("D"):
            return "im"
        if self.fake is not None and channel in self.fake.channels:
            return "group" if self.fake.channels[channel]["is_group"] else "channel"
        return "group" if channel.startswith("G") else "channel"

    def message_event(
        self,
        user: str,
        channel: str,
        text: str,
        thread_ts: str | None = None,
        ts: str | None = None,
        subtype: str | None = None,
        *,
        blocks: list[JSONDict] | None = None,
        bot_id: str | None = None,
        store: bool = True,
    ) -> JSONDict:
        """Build a ``message`` event (channel message or, with ``thread_ts``, a thread reply).

        With a fake attached (and ``store``), plain/``thread_broadcast``/``file_share`` messages
        are first stored in the fake, which assigns ``ts`` unless given.
        ``subtype="message_changed"``/``"message_deleted"`` build the nested shapes for
        message ``ts``. ``subtype="bot_message"`` builds a bot post (``bot_id``).
        """
        base: JSONDict = {
            "channel": channel,
            "channel_type": self._channel_type(channel),
        }
        if subtype in ("message_changed", "message_deleted"):
            if ts is None:
                raise ValueError(f"{subtype} needs ts= of the affected message")
            event_ts = self._event_ts()
            previous: JSONDict = {"type": "message", "user": user, "text": "", "ts": ts}
            if self.fake is not None and (found := self.fake.find_message(channel, ts)):
                previous = found
            event: JSONDict = {
                "type": "message",
                "subtype": subtype,
                "hidden": True,
                "ts": event_ts,
                "event_ts": event_ts,
                **base,
                "previous_message": previous,
            }
            if subtype == "message_changed":
                changed = {**previous, "text": text, "edited": {"user": user, "ts": event_ts}}
                changed["blocks"] = blocks if blocks is not None else _rich_text_blocks(text)
                event["message"] = changed
            else:
                event["deleted_ts"] = ts
            return event
        if subtype == "bot_message":
            mts = ts or self._event_ts()
            return {
                "type": "message",
                "subtype": "bot_message",
                "text": text,
                "ts": mts,
                "bot_id": bot_id or "B0OTHER",
                "username": user,
                **base,
                "event_ts": mts,
            }
        if self.fake is not None and store:
            msg = self.fake.post_user_message(
                user, channel, text, thread_ts=thread_ts, ts=ts, blocks=blocks, subtype=subtype
            )
        else:
            msg = {
                "client_msg_id": str(uuid.uuid4()),
                "type": "message",
                "text": text,
                "user": user,
                "ts": ts or self._event_ts(),
                "blocks": blocks if blocks is not None else _rich_text_blocks(text),
                "team": self.team_id,
            }
            if subtype:
                msg["subtype"] = subtype
            if thread_ts:
                msg["thread_ts"] = thread_ts
        event = {k: v for k, v in msg.items() if k not in ("reply_count", "reply_users")}
        event.update(base)
        event["event_ts"] = event["ts"]
        return event

    def app_mention_event(
        self,
        user: str,
        channel: str,
        text: str,
        thread_ts: str | None = None,
        ts: str | None = None,
    ) -> JSONDict:
        """Build an ``app_mention`` event (text should contain ``<@BOT_USER_ID>``)."""
        mts = ts or self._event_ts()
        event: JSONDict = {
            "type": "app_mention",
            "user": user,
            "text": text,
            "ts": mts,
            "client_msg_id": str(uuid.uuid4()),
            "team": self.team_id,
            "blocks": _rich_text_blocks(text),
            "channel": channel,
            "event_ts": mts,
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        return event

    def _event_ts(self) -> str:
        if self.fake is not None:
            return self.fake._next_ts()
        return f"{time.time():.6f}"

    def build_url_verification(self, challenge: str) -> SlackRequest:
        payload = {
            "token": self.verification_token,
            "challenge": challenge,
            "type": "url_verification",
        }
        return SlackRequest(
            kind="url_verification",
            body=_compact(payload).encode(),
            content_type="application/json",
            payload=payload,
        )

    async def url_verification(
        self, challenge: str = "fake-challenge", **send: Unpack[SendOptions]
    ) -> SlackHttpResult:
        """Slack's endpoint handshake; bolt answers ``{"challenge": ...}``."""
        return await self.send(self.build_url_verification(challenge), **send)


# --------------------------------------------------------------------------------------------
# Serving an app under test
# --------------------------------------------------------------------------------------------


def bolt_aiohttp_handler(
    app: AsyncApp,
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """An aiohttp handler that dispatches to a bolt ``AsyncApp``.

    Mount it on any existing aiohttp app: ``web_app.router.add_post("/slack/events", h)``.
    """
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request

    async def handle(request: web.Request) -> web.StreamResponse:
        bolt_request = await to_bolt_request(request)
        bolt_response = await app.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    return handle


@asynccontextmanager
async def serve_web_app(app: web.Application, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Serve an aiohttp application on ``host`` with an OS-assigned port; yields the base URL."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, 0)
        await site.start()
        port = int(runner.addresses[0][1])
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def serve_bolt_app(
    app: AsyncApp, path: str = "/slack/events", host: str = "127.0.0.1"
) -> AsyncIterator[str]:
    """Serve a bolt ``AsyncApp`` on 127.0.0.1; yields the events URL (``.../slack/events``)."""
    web_app = web.Application()
    web_app.router.add_post(path, bolt_aiohttp_handler(app))
    async with serve_web_app(web_app, host) as base_url:
        yield base_url + path
