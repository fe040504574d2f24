"""A fake Telegram Bot API server for tests, spoken to by the *real* python-telegram-bot.

The fake is an aiohttp server on ``127.0.0.1`` (OS-assigned port) that implements the subset of
the Bot API that Townhall uses, keeps an in-memory model of chats, users, messages, forum topics,
callback queries, commands and the webhook, records every call, and fails loudly on any method it
does not implement.

Usage::

    from telegram import Update
    from telegram.ext import ApplicationBuilder

    from tests.fakes.telegram import FakeTelegram

    async def test_something() -> None:
        async with FakeTelegram(token="123456:TEST-fake-token",
                                bot_username="townhall_test_bot") as fake:
            app = (
                ApplicationBuilder()
                .token(fake.token)
                .base_url(fake.base_url)            # http://127.0.0.1:PORT/bot
                .base_file_url(fake.base_file_url)  # http://127.0.0.1:PORT/file/bot
                .build()
            )
            ...  # add handlers
            await app.initialize()                  # -> getMe
            await app.start()
            await app.updater.start_polling()       # -> deleteWebhook, then getUpdates
            try:
                group = fake.group(-1001234567890, "Town square")
                alice = fake.user(42, "Alice")
                fake.push_update(fake.command_update(group, alice, "/poll@townhall_test_bot Q?"))
                call = await fake.wait_for_call("sendMessage")
                sent = fake.message(group["id"], call.result["message_id"])
                fake.push_update(fake.button_update(alice, sent, "Yes"))
                await fake.wait_for_call("answerCallbackQuery")
            finally:
                await app.updater.stop()
                await app.stop()
                await app.shutdown()
            fake.assert_no_unhandled()

Webhook mode: the bot calls ``setWebhook`` (recorded in :attr:`FakeTelegram.webhook`) and the
test delivers updates with ``await fake.post_to_webhook(None, update)`` (URL and secret default to
what the bot registered), or feeds them straight to ``application.process_update``::

    await app.process_update(Update.de_json(fake.text_update(chat, user, "hi"), app.bot))

Realism notes (all on purpose, they mirror Telegram):

* Form values are decoded like Telegram does: JSON-typed parameters (``reply_markup``,
  ``reply_parameters``, ``commands``, ``allowed_updates``, numbers, booleans) arrive as JSON
  strings and are decoded; text-like parameters stay strings. :attr:`Call.params` holds the
  decoded values.
* ``parse_mode`` (HTML, MarkdownV2, Markdown) is parsed: stored messages hold the plain text plus
  ``entities``, and malformed markup answers ``400 Bad Request: can't parse entities: ...``.
* ``editMessageText`` without ``reply_markup`` removes the inline keyboard; editing to identical
  content answers ``400 Bad Request: message is not modified``.
* In forum topics every message carries ``message_thread_id`` and ``is_topic_message``, and a
  message that is not a reply has ``reply_to_message`` set to the topic's
  ``forum_topic_created`` service message. Replies in non-forum supergroups carry the reply
  thread's ``message_thread_id`` (without ``is_topic_message``).
* ``getUpdates`` confirms updates below ``offset``, long-polls up to ``timeout`` seconds, answers
  ``409 Conflict`` while a webhook is set or when a newer ``getUpdates`` supersedes a pending
  one, and by default withholds ``chat_member``/``message_reaction``/``message_reaction_count``
  updates unless they are listed in ``allowed_updates`` (as Telegram does).
* Sending to an unknown chat answers ``400 Bad Request: chat not found`` (``strict_chats=True``);
  register chats with the builders (:meth:`FakeTelegram.group`,
  :meth:`FakeTelegram.private_chat`, ...). A known user without a private chat answers
  ``403 Forbidden: bot can't initiate conversation with a user``.
* Answering the same callback query twice answers ``400 Bad Request: query is too old and
  response timeout expired or query ID is invalid``; both attempts are recorded.

Notes on python-telegram-bot 22.8 seen through this fake:

* PTB rewrites error descriptions: "Bad Request: chat not found" surfaces as
  ``BadRequest("Chat not found")`` (prefix stripped, first letter capitalised); match with
  ``(?i)``. 400 -> BadRequest, 401/404 -> InvalidToken (EndPointNotFound from
  ``do_api_request`` on an initialized bot), 403 -> Forbidden, 409 -> Conflict, 429 with
  ``retry_after`` -> RetryAfter, 400 with ``migrate_to_chat_id`` -> ChatMigrated, 5xx ->
  NetworkError.
* ``Updater.stop()`` cancels the pending long poll (the fake records it with status 499) and then
  confirms fetched updates with a last ``getUpdates(offset=..., timeout=0)``.
* If ``Application.initialize()`` fails (e.g. InvalidToken), ``app.shutdown()`` is a no-op and
  PTB's HTTP clients stay open: call ``await app.bot.shutdown()``.

Nothing in here sleeps: waiting is done with :meth:`FakeTelegram.wait_for_call`,
:meth:`FakeTelegram.wait_for`, :meth:`FakeTelegram.wait_until_polled` and
:meth:`FakeTelegram.wait_until_updates_consumed`, all driven by an :class:`asyncio.Condition`.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import math
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, Final, Literal, TypeAlias

import aiohttp
from aiohttp import web
from yarl import URL

from tests.fakes import base

__all__ = [
    "DEFAULT_ALLOWED_UPDATES",
    "JSON",
    "Call",
    "CallbackAnswer",
    "FakeTelegram",
    "UploadedFile",
    "WebhookState",
]

JSON: TypeAlias = dict[str, Any]
"""A JSON object as a Python dict (an Update, a Message, a Chat, ...)."""

ChatMemberStatus: TypeAlias = Literal[
    "creator", "administrator", "member", "restricted", "left", "kicked"
]

ALL_UPDATE_TYPES: Final[tuple[str, ...]] = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "message_reaction",
    "message_reaction_count",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
)
DEFAULT_ALLOWED_UPDATES: Final[frozenset[str]] = frozenset(ALL_UPDATE_TYPES) - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}
"""What Telegram delivers when ``allowed_updates`` was never set (or set to ``[]``)."""

_CHAT_ACTIONS: Final[frozenset[str]] = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

# Parameters that are strings in the Bot API and must never be JSON-decoded (their content may
# well look like JSON: a poll option "123", a message text "true", ...).
_STRING_PARAMS: Final[frozenset[str]] = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "caption_parse_mode",
        "question_parse_mode",
        "explanation_parse_mode",
        "url",
        "secret_token",
        "callback_query_id",
        "inline_message_id",
        "description",
        "short_description",
        "name",
        "title",
        "query",
        "language_code",
        "ip_address",
        "emoji",
        "question",
        "explanation",
        "action",
        "business_connection_id",
        "message_effect_id",
        "first_name",
        "last_name",
        "custom_title",
        "game_short_name",
        "payload",
        "currency",
        "provider_token",
        "start_parameter",
        "photo",
        "document",
        "video",
        "audio",
        "animation",
        "voice",
        "sticker",
        "video_note",
        "thumbnail",
        "file_id",
        "icon_custom_emoji_id",
        "invite_link",
        "address",
        "tag",
        "switch_pm_text",
        "switch_pm_parameter",
        "next_offset",
    }
)

_INLINE_BUTTON_ACTIONS: Final[tuple[str, ...]] = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)

_QUERY_INVALID: Final = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
_NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
_COMMAND_RE: Final = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w@/])")
_MENTION_RE: Final = re.compile(r"(?<![\w@/])@[A-Za-z][A-Za-z0-9_]{3,31}(?!\w)")
_HASHTAG_RE: Final = re.compile(r"(?<![\w#])#[^\W\d_][\w]*")
_URL_RE: Final = re.compile(r"(?<!\w)https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")
_SECRET_RE: Final = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_BOT_COMMAND_NAME_RE: Final = re.compile(r"^[a-z0-9_]{1,32}$")


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a ``multipart/form-data`` request (``sendPhoto`` with bytes, ...)."""

    filename: str | None
    content_type: str
    data: bytes


@dataclass(kw_only=True)
class Call(base.Call):
    """One HTTP request the bot made to the fake (``at``: when it arrived).

    ``params`` has query string, form fields and JSON body merged, with JSON-typed form values
    decoded (``reply_markup`` is a dict, ``chat_id`` an int, ``show_alert`` a bool, ...).
    ``status``/``response`` are filled in when the fake answers (``None`` while a long poll is
    pending; ``499`` if the client went away before the answer).
    """

    params: dict[str, Any] = field(default_factory=dict)
    response: JSON | None = None

    @property
    def done(self) -> bool:
        """Whether the fake has answered (or the client disconnected)."""
        return self.status is not None

    @property
    def ok(self) -> bool:
        """Whether the fake answered ``{"ok": true, ...}``."""
        return self.response is not None and bool(self.response.get("ok"))

    @property
    def result(self) -> Any:
        """The ``result`` of a successful answer; raises AssertionError for a failed call."""
        if not self.ok or self.response is None:
            raise AssertionError(f"{self.method} did not succeed: {self.status} {self.response}")
        return self.response["result"]

    @property
    def error(self) -> str | None:
        """The error ``description`` of a failed call, else ``None``."""
        if self.response is None or self.response.get("ok"):
            return None
        return str(self.response.get("description"))


@dataclass(frozen=True)
class CallbackAnswer:
    """One ``answerCallbackQuery`` call; ``accepted`` is False for invalid or repeated ones."""

    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int | None
    accepted: bool
    time: float


@dataclass
class WebhookState:
    """What the bot registered with ``setWebhook`` (``url == ""`` means no webhook)."""

    url: str = ""
    secret_token: str | None = None
    allowed_updates: list[str] | None = None
    max_connections: int | None = None
    ip_address: str | None = None


@dataclass
class _Failure:
    method: str  # lower-case method name
    status: int
    description: str
    parameters: JSON | None
    remaining: int
    predicate: Callable[[dict[str, Any]], bool] | None


@dataclass
class _FloodLimit:
    max_calls: int
    per_seconds: float
    chat_id: int | None
    methods: frozenset[str]  # lower-case
    across_chats: bool = False  # one count for every chat (the bot's overall limit)
    history: dict[int, list[float]] = field(default_factory=dict)


class _ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


class _EntityParseError(Exception):
    pass


class _Default:
    """Sentinel type for "use what the bot registered"."""


_DEFAULT: Final = _Default()

_Handler: TypeAlias = Callable[[dict[str, Any]], Awaitable[Any]]


# --------------------------------------------------------------------------------------------
# Text helpers: UTF-16 lengths, entity parsing (HTML / MarkdownV2 / Markdown), auto entities
# --------------------------------------------------------------------------------------------


def _u16(s: str) -> int:
    """Length of ``s`` in UTF-16 code units (what Telegram entity offsets count)."""
    return len(s.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _auto_entities(text: str, existing: Sequence[JSON] = ()) -> list[JSON]:
    """Entities Telegram detects by itself: bot_command, mention, hashtag, url."""
    blocked: list[tuple[int, int]] = [
        (e["offset"], e["offset"] + e["length"])
        for e in existing
        if e["type"] in {"code", "pre", "text_link", "text_mention", "custom_emoji"}
    ]
    found: list[JSON] = []
    for kind, regex in (
        ("bot_command", _COMMAND_RE),
        ("mention", _MENTION_RE),
        ("hashtag", _HASHTAG_RE),
        ("url", _URL_RE),
    ):
        for m in regex.finditer(text):
            offset = _u16(text[: m.start()])
            length = _u16(m.group(0))
            if any(offset < end and start < offset + length for start, end in blocked):
                continue
            if any(
                offset < f["offset"] + f["length"] and f["offset"] < offset + length for f in found
            ):
                continue
            found.append({"type": kind, "offset": offset, "length": length})
    return found


def _sorted_entities(entities: Iterable[JSON]) -> list[JSON]:
    return sorted(
        (e for e in entities if e["length"] > 0), key=lambda e: (e["offset"], -e["length"])
    )


class _HTMLEntityParser(HTMLParser):
    _SIMPLE: Final[Mapping[str, str]] = {
        "b": "bold",
        "strong": "bold",
        "i": "italic",
        "em": "italic",
        "u": "underline",
        "ins": "underline",
        "s": "strikethrough",
        "strike": "strikethrough",
        "del": "strikethrough",
        "tg-spoiler": "spoiler",
        "code": "code",
        "pre": "pre",
    }

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.source = source
        self.out: list[str] = []
        self.pos = 0  # UTF-16 position in the output
        self.stack: list[tuple[str, int, JSON | None]] = []
        self.entities: list[JSON] = []
        self._line_starts = [0]
        for i, ch in enumerate(source):
            if ch == "\n":
                self._line_starts.append(i + 1)

    def _where(self) -> int:
        line, col = self.getpos()
        return _byte_offset(self.source, self._line_starts[line - 1] + col)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        entity: JSON | None
        if tag in self._SIMPLE:
            entity = {"type": self._SIMPLE[tag]}
            if tag == "code" and self.stack and self.stack[-1][0] == "pre":
                language = (attr.get("class") or "").removeprefix("language-")
                pre = self.stack[-1][2]
                if language and pre is not None:
                    pre["language"] = language
                    entity = None
        elif tag == "span":
            if attr.get("class") != "tg-spoiler":
                raise _EntityParseError(
                    f'Unsupported start tag "span" at byte offset {self._where()}'
                )
            entity = {"type": "spoiler"}
        elif tag == "a":
            href = attr.get("href") or ""
            match = re.fullmatch(r"tg://user\?id=(\d+)", href)
            if match:
                entity = {"type": "text_mention", "user": {"id": int(match.group(1))}}
            elif href:
                entity = {"type": "text_link", "url": href}
            else:
                entity = None
        elif tag == "blockquote":
            expandable = "expandable" in attr
            entity = {"type": "expandable_blockquote" if expandable else "blockquote"}
        elif tag == "tg-emoji":
            entity = {"type": "custom_emoji", "custom_emoji_id": attr.get("emoji-id") or ""}
        else:
            raise _EntityParseError(f'Unsupported start tag "{tag}" at byte offset {self._where()}')
        self.stack.append((tag, self.pos, entity))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise _EntityParseError(f'Unsupported start tag "{tag}" at byte offset {self._where()}')

    def handle_endtag(self, tag: str) -> None:
        if not self.stack:
            raise _EntityParseError(f"Unexpected end tag at byte offset {self._where()}")
        open_tag, start, entity = self.stack.pop()
        if open_tag != tag:
            raise _EntityParseError(
                f'Unmatched end tag at byte offset {self._where()}, expected "</{open_tag}>", '
                f'found "</{tag}>"'
            )
        if entity is not None:
            entity["offset"] = start
            entity["length"] = self.pos - start
            self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        self.out.append(data)
        self.pos += _u16(data)

    def result(self) -> tuple[str, list[JSON]]:
        self.feed(self.source)
        self.close()
        if self.stack:
            raise _EntityParseError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1][0]}"'
            )
        return "".join(self.out), self.entities


def _parse_html(text: str) -> tuple[str, list[JSON]]:
    return _HTMLEntityParser(text).result()


_MDV2_RESERVED: Final = frozenset("_*[]()~`>#+-=|{}.!")


def _parse_markdown_v2(text: str) -> tuple[str, list[JSON]]:
    out: list[str] = []
    pos = 0  # UTF-16 offset in the output
    entities: list[JSON] = []
    stack: list[tuple[str, int, int]] = []  # (type, output offset, source index)
    quote_start: int | None = None
    i = 0
    n = len(text)

    def emit(s: str) -> None:
        nonlocal pos
        out.append(s)
        pos += _u16(s)

    def unescaped_until(start: int, closing: str) -> tuple[str, int]:
        """Read verbatim text until ``closing`` (backslash escapes allowed), return (text, end)."""
        buf: list[str] = []
        j = start
        while j < n:
            if text[j] == "\\" and j + 1 < n:
                buf.append(text[j + 1])
                j += 2
                continue
            if text.startswith(closing, j):
                return "".join(buf), j
            buf.append(text[j])
            j += 1
        raise _EntityParseError(
            f"Can't find end of the entity starting at byte offset {_byte_offset(text, start - 1)}"
        )

    def toggle(kind: str, width: int) -> None:
        nonlocal i
        for k in range(len(stack) - 1, -1, -1):
            if stack[k][0] == kind:
                _, start, _src = stack.pop(k)
                entities.append({"type": kind, "offset": start, "length": pos - start})
                break
        else:
            stack.append((kind, pos, i))
        i += width

    while i < n:
        ch = text[i]
        at_line_start = i == 0 or text[i - 1] == "\n"
        if ch == "\n" and quote_start is not None:
            # a blockquote continues while the next line starts with '>'
            if not text.startswith(">", i + 1):
                entities.append(
                    {"type": "blockquote", "offset": quote_start, "length": pos - quote_start}
                )
                quote_start = None
            emit("\n")
            i += 1
            continue
        if ch == "\\":
            if i + 1 >= n:
                raise _EntityParseError(
                    "Character '\\' is reserved and must be escaped with the preceding '\\'"
                )
            emit(text[i + 1])
            i += 2
        elif ch == "`":
            if text.startswith("```", i):
                body, end = unescaped_until(i + 3, "```")
                language = ""
                if "\n" in body:
                    first, rest = body.split("\n", 1)
                    if first and not re.search(r"\s", first):
                        language, body = first, rest
                start = pos
                emit(body)
                entity: JSON = {"type": "pre", "offset": start, "length": pos - start}
                if language:
                    entity["language"] = language
                entities.append(entity)
                i = end + 3
            else:
                body, end = unescaped_until(i + 1, "`")
                start = pos
                emit(body)
                entities.append({"type": "code", "offset": start, "length": pos - start})
                i = end + 1
        elif ch == "*":
            toggle("bold", 1)
        elif ch == "_":
            if text.startswith("__", i):
                toggle("underline", 2)
            else:
                toggle("italic", 1)
        elif ch == "~":
            toggle("strikethrough", 1)
        elif ch == "|" and text.startswith("||", i):
            toggle("spoiler", 2)
        elif ch == "[":
            stack.append(("link", pos, i))
            i += 1
        elif ch == "]" and any(kind == "link" for kind, _, _ in stack):
            if not text.startswith("(", i + 1):
                raise _EntityParseError(
                    f"Can't find end of the entity starting at byte offset {_byte_offset(text, i)}"
                )
            url, end = unescaped_until(i + 2, ")")
            for k in range(len(stack) - 1, -1, -1):
                if stack[k][0] == "link":
                    _, start, _src = stack.pop(k)
                    break
            match = re.fullmatch(r"tg://user\?id=(\d+)", url)
            if match:
                entities.append(
                    {
                        "type": "text_mention",
                        "offset": start,
                        "length": pos - start,
                        "user": {"id": int(match.group(1))},
                    }
                )
            else:
                entities.append(
                    {"type": "text_link", "offset": start, "length": pos - start, "url": url}
                )
            i = end + 1
        elif ch == ">" and at_line_start:
            if quote_start is None:
                quote_start = pos
            i += 1
        elif ch in _MDV2_RESERVED:
            raise _EntityParseError(
                f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
            )
        else:
            emit(ch)
            i += 1
    if quote_start is not None:
        entities.append({"type": "blockquote", "offset": quote_start, "length": pos - quote_start})
    if stack:
        raise _EntityParseError(
            "Can't find end of the entity starting at byte offset "
            f"{_byte_offset(text, stack[0][2])}"
        )
    return "".join(out), entities


def _parse_markdown_legacy(text: str) -> tuple[str, list[JSON]]:
    out: list[str] = []
    pos = 0
    entities: list[JSON] = []
    i = 0
    n = len(text)
    kinds = {"*": "bold", "_": "italic"}
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.append(text[i + 1])
            pos += 1
            i += 2
            continue
        if ch in kinds or ch == "`" or ch == "[":
            if ch == "`" and text.startswith("```", i):
                closing, kind, width = "```", "pre", 3
            elif ch == "`":
                closing, kind, width = "`", "code", 1
            elif ch == "[":
                closing, kind, width = "]", "text_link", 1
            else:
                closing, kind, width = ch, kinds[ch], 1
            end = text.find(closing, i + width)
            if end < 0:
                raise _EntityParseError(
                    f"Can't find end of the entity starting at byte offset {_byte_offset(text, i)}"
                )
            body = text[i + width : end]
            entity: JSON = {"type": kind, "offset": pos}
            i = end + width
            if kind == "text_link":
                if not text.startswith("(", i):
                    raise _EntityParseError(
                        "Can't find end of the entity starting at byte offset "
                        f"{_byte_offset(text, i)}"
                    )
                url_end = text.find(")", i)
                if url_end < 0:
                    raise _EntityParseError(
                        "Can't find end of the entity starting at byte offset "
                        f"{_byte_offset(text, i)}"
                    )
                entity["url"] = text[i + 1 : url_end]
                i = url_end + 1
            out.append(body)
            pos += _u16(body)
            entity["length"] = _u16(body)
            entities.append(entity)
            continue
        out.append(ch)
        pos += _u16(ch)
        i += 1
    return "".join(out), entities


def _render_text(text: str, parse_mode: str | None, entities: Any) -> tuple[str, list[JSON]]:
    """Turn (text, parse_mode | entities) into Telegram's stored (plain text, entities)."""
    if entities is not None:
        if not isinstance(entities, list):
            raise _ApiError(400, "Bad Request: can't parse entities JSON object")
        parsed_text, parsed = text, [dict(e) for e in entities]
    elif parse_mode:
        mode = parse_mode.lower()
        try:
            if mode == "html":
                parsed_text, parsed = _parse_html(text)
            elif mode == "markdownv2":
                parsed_text, parsed = _parse_markdown_v2(text)
            elif mode == "markdown":
                parsed_text, parsed = _parse_markdown_legacy(text)
            else:
                raise _ApiError(400, f"Bad Request: unsupported parse_mode {parse_mode!r}")
        except _EntityParseError as exc:
            raise _ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
    else:
        parsed_text, parsed = text, []
    return parsed_text, _sorted_entities([*parsed, *_auto_entities(parsed_text, parsed)])


# --------------------------------------------------------------------------------------------
# The fake
# --------------------------------------------------------------------------------------------


class FakeTelegram(base.FakeServer):
    """A fake Bot API server. Use as ``async with FakeTelegram(...) as fake:``.

    Args:
        token: The bot token the fake accepts; anything else answers ``401 Unauthorized``.
        bot_username: The bot's username (must end in "bot", as on Telegram).
        bot_first_name: The bot's display name.
        strict_chats: When True (default) sending to a chat the fake was never told about answers
            ``400 Bad Request: chat not found``; when False such chats are created on the fly.
        privacy_mode: When True, :meth:`push_update` drops group messages a bot in privacy mode
            would not receive (anything but commands, replies to the bot, mentions of the bot and
            service messages); dropped updates are kept in :attr:`withheld_updates`.
        require_https_webhook: When True ``setWebhook`` insists on an HTTPS URL on port
            443/80/88/8443 like Telegram; False (default) allows local ``http://`` URLs.
    """

    def __init__(
        self,
        token: str = "123456:TEST-fake-token",  # noqa: S107 - a fake token for tests
        bot_username: str = "townhall_test_bot",
        *,
        bot_first_name: str = "Townhall Test",
        strict_chats: bool = True,
        privacy_mode: bool = False,
        require_https_webhook: bool = False,
    ) -> None:
        if not bot_username.lower().endswith("bot"):
            raise ValueError("Telegram bot usernames end in 'bot'")
        bot_id_part = token.split(":", 1)[0]
        if not bot_id_part.isdigit():
            raise ValueError("a bot token looks like '<digits>:<secret>'")
        self.token: Final[str] = token
        self.bot_username: Final[str] = bot_username
        self.bot_id: Final[int] = int(bot_id_part)
        self.bot_first_name = bot_first_name
        self.strict_chats = strict_chats
        self.privacy_mode = privacy_mode
        self.require_https_webhook = require_https_webhook

        # records
        self.calls: list[Call] = []
        self.unhandled: list[Call] = []
        self.internal_errors: list[tuple[Call, Exception]] = []
        self.callback_answers: list[CallbackAnswer] = []
        self.deleted_messages: list[JSON] = []
        self.withheld_updates: list[JSON] = []
        self.webhook = WebhookState()

        # model
        self._users: dict[int, JSON] = {}
        self._chats: dict[int, JSON] = {}
        self._private_started: set[int] = set()
        self._blocked: set[int] = set()
        self._kicked: set[int] = set()
        self._migrated: dict[int, int] = {}
        self._members: dict[tuple[int, int], ChatMemberStatus] = {}
        self._messages: dict[tuple[int, int], JSON] = {}
        self._next_message_id: dict[int, int] = {}
        self._topics: dict[int, dict[int, JSON]] = {}
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._callback_queries: dict[str, JSON] = {}
        self._answered_queries: set[str] = set()

        # updates
        self._update_ids = itertools.count(100_000_001)
        self._last_pushed_update_id = 0
        self._queue: list[JSON] = []
        self._allowed_updates: frozenset[str] = DEFAULT_ALLOWED_UPDATES
        self._poll_generation = 0
        self._polls_received = 0
        self._parked_polls = 0
        self._file_ids = itertools.count(1)
        self._seq_counter = itertools.count(1)
        self._callback_ids = itertools.count(4_382_000_000_000_000_001)

        # error injection
        self._failures: list[_Failure] = []
        self._slow: list[list[Any]] = []
        self._flood_limits: list[_FloodLimit] = []

        # runtime
        self._cond = asyncio.Condition()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._session: aiohttp.ClientSession | None = None
        self._notify_tasks: set[asyncio.Task[None]] = set()

        self._methods: dict[str, tuple[str, _Handler]] = {}
        for name, handler in (
            ("getMe", self._m_get_me),
            ("logOut", self._m_true),
            ("close", self._m_true),
            ("getUpdates", self._m_get_updates),
            ("setWebhook", self._m_set_webhook),
            ("deleteWebhook", self._m_delete_webhook),
            ("getWebhookInfo", self._m_get_webhook_info),
            ("sendMessage", self._m_send_message),
            ("editMessageText", self._m_edit_message_text),
            ("editMessageReplyMarkup", self._m_edit_message_reply_markup),
            ("deleteMessage", self._m_delete_message),
            ("answerCallbackQuery", self._m_answer_callback_query),
            ("sendChatAction", self._m_send_chat_action),
            ("setMyCommands", self._m_set_my_commands),
            ("getMyCommands", self._m_get_my_commands),
            ("deleteMyCommands", self._m_delete_my_commands),
            ("getChat", self._m_get_chat),
            ("getChatMember", self._m_get_chat_member),
            ("getChatAdministrators", self._m_get_chat_administrators),
        ):
            self._methods[name.lower()] = (name, handler)

    # ------------------------------------------------------------------ lifecycle
    # (``async with``, ``close()`` and the unhandled-call check on exit: tests/fakes/base.py)

    label = "FakeTelegram"

    async def start(self) -> None:
        """Start serving on 127.0.0.1 with an OS-assigned port."""
        if self._runner is not None:
            raise RuntimeError("FakeTelegram is already running")
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # handler_cancellation: a long poll whose client went away (PTB cancels the pending
        # getUpdates on Updater.stop()) is cancelled instead of lingering until its timeout.
        runner = web.AppRunner(
            app,
            handle_signals=False,
            access_log=None,
            shutdown_timeout=2.0,
            handler_cancellation=True,
        )
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(runner.addresses[0][1])
        self._runner = runner
        self._closing = False

    async def stop(self) -> None:
        """Wake pending long polls (they answer ``[]``), stop the server, close sessions."""
        self._closing = True
        await self._notify()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._notify_tasks:
            await asyncio.gather(*self._notify_tasks, return_exceptions=True)

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeTelegram is not running")
        return self._port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)``: PTB appends the token to it."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder().base_file_url(...)``."""
        return f"{self.url}/file/bot"

    @property
    def api_url(self) -> str:
        """``base_url`` + token: append ``/<method>`` for raw HTTP clients."""
        return f"{self.base_url}{self.token}"

    @property
    def bot_user(self) -> JSON:
        """The bot as a ``User`` object (the ``from`` of its messages)."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    # ------------------------------------------------------------------ HTTP plumbing

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["tail"]
        token_ok = False
        method = path
        if path.startswith("file/bot"):
            method = "file:" + path.partition("/")[2].partition("/")[2]
            token_ok = path.startswith(f"file/bot{self.token}/")
        elif path.startswith("bot"):
            token, _, method = path[3:].partition("/")
            token_ok = token == self.token
        parse_error: str | None = None
        try:
            params = await self._read_params(request)
        except ValueError as exc:  # malformed JSON body / form
            params, parse_error = {}, f"Bad Request: can't parse request body: {exc}"
        call = Call(method=method, params=params, at=time.monotonic(), http_method=request.method)
        self.calls.append(call)
        await self._notify()
        try:
            if parse_error is not None:
                status, payload = 400, {"ok": False, "error_code": 400, "description": parse_error}
            else:
                status, payload = await self._dispatch(call, token_ok=token_ok)
        except asyncio.CancelledError:
            call.status = 499
            self._poke()
            raise
        except Exception as exc:  # a bug in the fake: answer 500 and make assert_no_unhandled fail
            self.internal_errors.append((call, exc))
            status, payload = (
                500,
                {
                    "ok": False,
                    "error_code": 500,
                    "description": f"Internal Server Error: fake crashed: {exc!r}",
                },
            )
        call.status = status
        call.response = payload
        await self._notify()
        delay = self._take_slow(call)
        if delay:  # the call took effect; its answer is late (a slow Bot API)
            await asyncio.sleep(delay)
        return web.json_response(payload, status=status)

    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = {k: _decode_form_value(k, v) for k, v in request.query.items()}
        if not request.can_read_body:
            return params
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("the JSON body must be an object")
            for key, value in body.items():
                # Telegram also accepts JSON-serialized objects as strings inside a JSON body
                params[key] = _decode_form_value(key, value) if isinstance(value, str) else value
            return params
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, str):
                params[key] = _decode_form_value(key, value)
            elif isinstance(value, bytes | bytearray):
                params[key] = UploadedFile(
                    filename=None, content_type="application/octet-stream", data=bytes(value)
                )
            else:
                params[key] = UploadedFile(
                    filename=value.filename,
                    content_type=value.content_type,
                    data=value.file.read(),
                )
        return params

    async def _dispatch(self, call: Call, *, token_ok: bool) -> tuple[int, JSON]:
        if not token_ok:
            if call.method.startswith("file:") or not call.method:
                return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        entry = self._methods.get(call.method.lower())
        if entry is None:
            self.unhandled.append(call)
            return 404, {
                "ok": False,
                "error_code": 404,
                "description": f"Not Found: method {call.method} not implemented by fake",
            }
        call.method, handler = entry
        try:
            self._check_injected_failure(call)
            self._check_flood_limit(call)
            result = await handler(call.params)
        except _ApiError as exc:
            return exc.status, exc.payload()
        return 200, {"ok": True, "result": result}

    async def _notify(self) -> None:
        async with self._cond:
            self._cond.notify_all()

    def _poke(self) -> None:
        """Notify waiters from synchronous code."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(self._notify())
        self._notify_tasks.add(task)
        task.add_done_callback(self._notify_tasks.discard)

    # ------------------------------------------------------------------ records & waiting

    def calls_to(self, method: str) -> list[Call]:
        """All calls to ``method`` (case-insensitive), in order."""
        wanted = method.lower()
        return [c for c in self.calls if c.method.lower() == wanted]

    def mark(self) -> int:
        """Current number of calls; pass as ``since=`` to only consider later calls."""
        return len(self.calls)

    @property
    def errors(self) -> list[Call]:
        """Calls the fake answered with an error status (not those the client abandoned,
        such as the long poll PTB cancels on ``Updater.stop()``, which have status 499)."""
        return [
            c for c in self.calls if c.status is not None and c.status >= 400 and c.status != 499
        ]

    def _unhandled_lines(self) -> list[str]:
        problems = [f"  not implemented: {c.method} {c.params}" for c in self.unhandled]
        return problems + [
            f"  fake crashed: {c.method} {c.params}: {e!r}" for c, e in self.internal_errors
        ]

    async def wait_for(
        self,
        predicate: Callable[[], bool],
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - a bound, not a sleep
        what: str = "condition",
    ) -> None:
        """Wait until ``predicate()`` holds; it is re-checked after every request and push."""
        try:
            async with asyncio.timeout(timeout):
                async with self._cond:
                    await self._cond.wait_for(predicate)
        except TimeoutError:
            recent = "\n".join(f"  {c.method} {c.status} {c.params}" for c in self.calls[-15:])
            raise AssertionError(
                f"timed out after {timeout}s waiting for {what}; last calls:\n{recent}"
            ) from None

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - a bound, not a sleep
        *,
        since: int = 0,
    ) -> Call:
        """Wait until ``count`` answered calls to ``method`` match ``predicate``; return the
        ``count``-th one. ``since`` (see :meth:`mark`) ignores earlier calls."""
        wanted = method.lower()

        def matches() -> list[Call]:
            return [
                c
                for c in self.calls[since:]
                if c.method.lower() == wanted and c.done and (predicate is None or predicate(c))
            ]

        await self.wait_for(
            lambda: len(matches()) >= count, timeout=timeout, what=f"{count} x {method}"
        )
        return matches()[count - 1]

    async def wait_until_polled(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until the bot is polling: a ``getUpdates`` is pending right now, or one arrives
        after this call."""
        seen = self._polls_received
        await self.wait_for(
            lambda: self._parked_polls > 0 or self._polls_received > seen,
            timeout=timeout,
            what="getUpdates",
        )

    async def wait_until_updates_consumed(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until every pushed update was confirmed by a later ``getUpdates`` offset.

        (That means PTB has *fetched* them; wait for a handler's effect with
        :meth:`wait_for_call` instead.)"""
        await self.wait_for(
            lambda: not self._queue, timeout=timeout, what="all pushed updates to be confirmed"
        )

    @property
    def polling(self) -> bool:
        """Whether a long poll is pending right now."""
        return self._parked_polls > 0

    @property
    def pending_updates(self) -> list[JSON]:
        """Pushed updates not yet confirmed by the bot."""
        return list(self._queue)

    # ------------------------------------------------------------------ error injection

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int = 1,
        description: str | None = None,
        count: int = 1,
        *,
        times: int | None = None,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        """Make the next ``count`` calls to ``method`` (optionally only those whose params match
        ``predicate``) fail with ``status``; ``times`` is the name every fake shares for
        ``count``.

        429 answers ``{"description": "Too Many Requests: retry after N",
        "parameters": {"retry_after": N}}`` (PTB: RetryAfter); 400 -> BadRequest,
        401/404 -> InvalidToken, 403 -> Forbidden, 409 -> Conflict, 5xx -> NetworkError.
        """
        parameters: JSON | None = None
        if status == 429:
            parameters = {"retry_after": retry_after}
            description = description or f"Too Many Requests: retry after {retry_after}"
        if migrate_to_chat_id is not None:
            parameters = {"migrate_to_chat_id": migrate_to_chat_id}
        default_descriptions = {
            400: "Bad Request: injected failure",
            401: "Unauthorized",
            403: "Forbidden: injected failure",
            404: "Not Found",
            409: "Conflict: injected failure",
            500: "Internal Server Error",
            502: "Bad Gateway",
        }
        self._failures.append(
            _Failure(
                method=method.lower(),
                status=status,
                description=description or default_descriptions.get(status, f"Error {status}"),
                parameters=parameters,
                remaining=base.times_or_count(times, count),
                predicate=predicate,
            )
        )

    def slow_next(self, method: str, seconds: float, count: int = 1) -> None:
        """The next ``count`` calls to ``method`` take effect but answer ``seconds`` late."""
        self._slow.append([method.lower(), seconds, count])

    def _take_slow(self, call: Call) -> float:
        for entry in self._slow:
            if entry[0] == call.method.lower() and entry[2] > 0:
                entry[2] -= 1
                return float(entry[1])
        return 0.0

    def clear_failures(self) -> None:
        """Forget pending :meth:`fail_next` injections and flood limits."""
        self._failures.clear()
        self._flood_limits.clear()

    def set_flood_limit(
        self,
        max_calls: int,
        per_seconds: float = 60.0,
        *,
        chat_id: int | None = None,
        methods: Sequence[str] = ("sendMessage", "editMessageText", "editMessageReplyMarkup"),
        across_chats: bool = False,
    ) -> None:
        """Answer 429 (with a computed retry_after) once a chat (or ``chat_id`` only) gets more
        than ``max_calls`` of ``methods`` within ``per_seconds``; ``across_chats``: once all
        chats together do (Telegram's overall limit of about 30 messages a second)."""
        self._flood_limits.append(
            _FloodLimit(
                max_calls=max_calls,
                per_seconds=per_seconds,
                chat_id=chat_id,
                methods=frozenset(m.lower() for m in methods),
                across_chats=across_chats,
            )
        )

    def block_user(self, chat_id: int) -> None:
        """The user blocked the bot: sending there answers 403 "bot was blocked by the user"."""
        self._blocked.add(chat_id)

    def unblock_user(self, chat_id: int) -> None:
        self._blocked.discard(chat_id)

    def kick_bot(self, chat_id: int) -> None:
        """The bot was removed from a group: sending there answers 403 "bot was kicked ..."."""
        self._kicked.add(chat_id)

    def migrate_chat(self, old_chat_id: int, new_chat_id: int) -> JSON:
        """Upgrade a group to a supergroup: the old id answers 400 with ``migrate_to_chat_id``
        (PTB: ChatMigrated). Returns the new supergroup chat."""
        old = self._chats.get(old_chat_id)
        title = old.get("title", "Migrated group") if old else "Migrated group"
        self._migrated[old_chat_id] = new_chat_id
        return self.group(new_chat_id, title, supergroup=True)

    def _check_injected_failure(self, call: Call) -> None:
        wanted = call.method.lower()
        for failure in self._failures:
            if failure.method != wanted or failure.remaining <= 0:
                continue
            if failure.predicate is not None and not failure.predicate(call.params):
                continue
            failure.remaining -= 1
            if failure.remaining <= 0:
                self._failures.remove(failure)
            raise _ApiError(failure.status, failure.description, failure.parameters)

    def _check_flood_limit(self, call: Call) -> None:
        method = call.method.lower()
        raw_chat = call.params.get("chat_id")
        if not isinstance(raw_chat, int):
            return
        now = time.monotonic()
        for limit in self._flood_limits:
            if method not in limit.methods:
                continue
            if limit.chat_id is not None and limit.chat_id != raw_chat:
                continue
            key = 0 if limit.across_chats else raw_chat
            history = [t for t in limit.history.get(key, []) if now - t < limit.per_seconds]
            if len(history) >= limit.max_calls:
                retry_after = max(1, math.ceil(history[0] + limit.per_seconds - now))
                limit.history[key] = history
                raise _ApiError(
                    429,
                    f"Too Many Requests: retry after {retry_after}",
                    {"retry_after": retry_after},
                )
            history.append(now)
            limit.history[key] = history

    # ------------------------------------------------------------------ model accessors

    def chat(self, chat_id: int) -> JSON:
        """The registered chat (as it appears in messages)."""
        return copy.deepcopy(self._chats[chat_id])

    def message(self, chat_id: int, message_id: int) -> JSON | None:
        """The current state of a stored message (a copy), or None if unknown/deleted."""
        msg = self._messages.get((chat_id, message_id))
        return copy.deepcopy(msg) if msg is not None else None

    def messages(self, chat_id: int | None = None, *, from_bot: bool | None = None) -> list[JSON]:
        """Stored (not deleted) messages, oldest first, optionally filtered."""
        found = []
        for (cid, _mid), msg in sorted(self._messages.items(), key=lambda kv: kv[1]["_seq"]):
            if chat_id is not None and cid != chat_id:
                continue
            is_bot = msg.get("from", {}).get("id") == self.bot_id
            if from_bot is not None and is_bot != from_bot:
                continue
            found.append(_public(msg))
        return found

    def sent_messages(self, chat_id: int | None = None) -> list[JSON]:
        """Messages the bot sent (current state, not deleted), oldest first."""
        return self.messages(chat_id, from_bot=True)

    def last_sent(self, chat_id: int | None = None) -> JSON:
        """The bot's most recent (not deleted) message; AssertionError if there is none."""
        sent = self.sent_messages(chat_id)
        if not sent:
            raise AssertionError(f"the bot has sent no message (chat_id={chat_id})")
        return sent[-1]

    def commands(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        """The commands set with ``setMyCommands`` for a scope (default scope by default)."""
        return copy.deepcopy(self._commands.get(_scope_key(scope, language_code), []))

    def callback_answer(self, callback_query_id: str) -> CallbackAnswer | None:
        """The accepted answer to a callback query, if any."""
        for answer in self.callback_answers:
            if answer.callback_query_id == callback_query_id and answer.accepted:
                return answer
        return None

    @property
    def allowed_updates(self) -> frozenset[str]:
        """Update types getUpdates currently delivers."""
        return self._allowed_updates

    # ------------------------------------------------------------------ builders: entities

    def user(
        self,
        id: int,
        first_name: str = "Test",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        is_bot: bool = False,
        is_premium: bool | None = None,
    ) -> JSON:
        """Register a user and return its ``User`` object."""
        user: JSON = {"id": id, "is_bot": is_bot, "first_name": first_name}
        if last_name is not None:
            user["last_name"] = last_name
        if username is not None:
            user["username"] = username
        if language_code is not None:
            user["language_code"] = language_code
        if is_premium is not None:
            user["is_premium"] = is_premium
        self._users[id] = user
        return copy.deepcopy(user)

    def group(
        self,
        id: int,
        title: str = "Test group",
        *,
        forum: bool = False,
        supergroup: bool | None = None,
        username: str | None = None,
    ) -> JSON:
        """Register a group and return its ``Chat`` object.

        The chat is a supergroup if ``forum`` or ``supergroup`` is set, or if ``id`` looks like a
        supergroup id (``-100...``); otherwise a basic group. Forums have ``is_forum: true``.
        """
        if id >= 0:
            raise ValueError("group chat ids are negative")
        is_super = supergroup if supergroup is not None else (forum or id <= -1_000_000_000_000)
        if forum and not is_super:
            raise ValueError("forums are supergroups")
        chat: JSON = {"id": id, "title": title, "type": "supergroup" if is_super else "group"}
        if username is not None:
            chat["username"] = username
        if forum:
            chat["is_forum"] = True
        if not is_super:
            chat["all_members_are_administrators"] = False
        self._chats[id] = chat
        return copy.deepcopy(chat)

    def channel(
        self,
        id: int,
        title: str = "Test channel",
        *,
        username: str | None = None,
    ) -> JSON:
        """Register a channel and return its ``Chat`` object."""
        chat: JSON = {"id": id, "title": title, "type": "channel"}
        if username is not None:
            chat["username"] = username
        self._chats[id] = chat
        return copy.deepcopy(chat)

    def private_chat(self, user: JSON) -> JSON:
        """Register the private chat with ``user`` (as if they pressed Start) and return it."""
        uid = int(user["id"])
        self._users.setdefault(uid, _user_fields(user))
        chat: JSON = {"id": uid, "first_name": user["first_name"], "type": "private"}
        for key in ("last_name", "username"):
            if key in user:
                chat[key] = user[key]
        self._chats[uid] = chat
        self._private_started.add(uid)
        return copy.deepcopy(chat)

    def set_member_status(
        self, chat: JSON | int, user: JSON | int, status: ChatMemberStatus
    ) -> None:
        """What ``getChatMember`` answers for ``user`` in ``chat`` (default: "member")."""
        chat_id = chat if isinstance(chat, int) else int(chat["id"])
        user_id = user if isinstance(user, int) else int(user["id"])
        if not isinstance(user, int):
            self._users.setdefault(user_id, _user_fields(user))
        self._members[(chat_id, user_id)] = status

    def create_topic(
        self,
        chat: JSON,
        name: str,
        *,
        creator: JSON | None = None,
        icon_color: int = 7322096,
    ) -> int:
        """Create a forum topic (its ``forum_topic_created`` service message) and return its
        ``message_thread_id``. See also :meth:`topic_created_update`."""
        msg = self._store_topic(chat, name, creator=creator, icon_color=icon_color)
        return int(msg["message_id"])

    # ------------------------------------------------------------------ builders: updates

    def next_update_id(self) -> int:
        return next(self._update_ids)

    def text_update(
        self,
        chat: JSON,
        user: JSON,
        text: str,
        *,
        thread_id: int | None = None,
        reply_to: JSON | None = None,
        entities: list[JSON] | None = None,
    ) -> JSON:
        """A ``message`` update with text (bot_command/mention/hashtag/url entities detected as
        Telegram does, unless ``entities`` is given)."""
        msg = self._new_message(chat, user, thread_id=thread_id, reply_to=reply_to)
        msg["text"] = text
        ents = entities if entities is not None else _sorted_entities(_auto_entities(text))
        if ents:
            msg["entities"] = ents
        return self._wrap("message", self._store(msg))

    def command_update(
        self,
        chat: JSON,
        user: JSON,
        text: str,
        *,
        thread_id: int | None = None,
        reply_to: JSON | None = None,
    ) -> JSON:
        """A command message, e.g. ``'/poll@townhall_test_bot "Q?" "A" "B"'``, with the
        ``bot_command`` entity at offset 0 like Telegram sends."""
        if not _COMMAND_RE.match(text):
            raise ValueError(f"not a bot command: {text!r}")
        return self.text_update(chat, user, text, thread_id=thread_id, reply_to=reply_to)

    def reply_update(
        self,
        chat: JSON,
        user: JSON,
        text: str,
        reply_to: JSON,
        *,
        thread_id: int | None = None,
    ) -> JSON:
        """A text message replying to ``reply_to`` (e.g. a stored bot message). In a forum topic
        the thread is taken from ``reply_to`` unless ``thread_id`` is given."""
        return self.text_update(chat, user, text, thread_id=thread_id, reply_to=reply_to)

    def photo_update(
        self,
        chat: JSON,
        user: JSON,
        *,
        caption: str | None = None,
        thread_id: int | None = None,
        reply_to: JSON | None = None,
    ) -> JSON:
        """A photo message (three sizes), optionally with a caption."""
        msg = self._new_message(chat, user, thread_id=thread_id, reply_to=reply_to)
        base = next(self._file_ids)
        msg["photo"] = [
            {
                "file_id": f"AgACAgIAAxkBAAI{base:08d}{w}",
                "file_unique_id": f"AQAD{base:06d}{w}",
                "width": w,
                "height": w * 3 // 4,
                "file_size": w * 90,
            }
            for w in (90, 320, 800)
        ]
        if caption is not None:
            msg["caption"] = caption
            ents = _sorted_entities(_auto_entities(caption))
            if ents:
                msg["caption_entities"] = ents
        return self._wrap("message", self._store(msg))

    def sticker_update(
        self,
        chat: JSON,
        user: JSON,
        *,
        emoji: str = "👍",
        thread_id: int | None = None,
        reply_to: JSON | None = None,
    ) -> JSON:
        """A (static, regular) sticker message."""
        msg = self._new_message(chat, user, thread_id=thread_id, reply_to=reply_to)
        n = next(self._file_ids)
        msg["sticker"] = {
            "file_id": f"CAACAgIAAxkBAAI{n:08d}",
            "file_unique_id": f"AgAD{n:06d}",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "type": "regular",
            "emoji": emoji,
            "set_name": "TownhallTestStickers",
            "file_size": 24_000,
        }
        return self._wrap("message", self._store(msg))

    def new_chat_members_update(
        self, chat: JSON, members: Sequence[JSON], *, by: JSON | None = None
    ) -> JSON:
        """A ``new_chat_members`` service message (``by`` added them; default: they joined)."""
        if not members:
            raise ValueError("need at least one member")
        msg = self._new_message(chat, by or members[0])
        msg["new_chat_members"] = [_user_fields(m) for m in members]
        msg["new_chat_participant"] = _user_fields(members[0])  # legacy field Telegram still sends
        msg["new_chat_member"] = _user_fields(members[0])
        return self._wrap("message", self._store(msg))

    def left_chat_member_update(self, chat: JSON, member: JSON, *, by: JSON | None = None) -> JSON:
        """A ``left_chat_member`` service message."""
        msg = self._new_message(chat, by or member)
        msg["left_chat_member"] = _user_fields(member)
        msg["left_chat_participant"] = _user_fields(member)
        return self._wrap("message", self._store(msg))

    def topic_created_update(self, chat: JSON, user: JSON, name: str) -> JSON:
        """A ``forum_topic_created`` service message update; its ``message_id`` is the new
        topic's ``message_thread_id``."""
        msg = self._store_topic(chat, name, creator=user, icon_color=7322096)
        return self._wrap("message", _public(msg))

    def edited_message_update(self, message: JSON, text: str) -> JSON:
        """An ``edited_message`` update: the stored user message ``message`` now reads ``text``."""
        key = (int(message["chat"]["id"]), int(message["message_id"]))
        stored = self._messages.get(key)
        if stored is None:
            raise ValueError(f"unknown message {key}")
        if "text" not in stored:
            raise ValueError("only text messages can be edited by this builder")
        stored["text"] = text
        ents = _sorted_entities(_auto_entities(text))
        if ents:
            stored["entities"] = ents
        else:
            stored.pop("entities", None)
        stored["edit_date"] = max(int(time.time()), int(stored["date"]) + 1)
        return self._wrap("edited_message", _public(stored))

    def callback_update(
        self,
        user: JSON,
        message: JSON,
        data: str,
        *,
        check_keyboard: bool = True,
    ) -> JSON:
        """A ``callback_query`` update: ``user`` pressed the button with ``data`` on ``message``
        (a message the bot sent; its current stored state is used). With ``check_keyboard``
        the data must be on the message's inline keyboard, as it always is on Telegram."""
        key = (int(message["chat"]["id"]), int(message["message_id"]))
        current = self._messages.get(key)
        msg = _public(current) if current is not None else copy.deepcopy(message)
        if check_keyboard:
            datas = [
                b.get("callback_data")
                for row in msg.get("reply_markup", {}).get("inline_keyboard", [])
                for b in row
            ]
            if data not in datas:
                raise ValueError(f"callback_data {data!r} is not on the message's keyboard {datas}")
        query_id = str(next(self._callback_ids))
        query: JSON = {
            "id": query_id,
            "from": _user_fields(user),
            "message": msg,
            "chat_instance": _chat_instance(key[0]),
            "data": data,
        }
        self._callback_queries[query_id] = query
        self._users.setdefault(int(user["id"]), _user_fields(user))
        return self._wrap("callback_query", query)

    def button_update(self, user: JSON, message: JSON, text: str) -> JSON:
        """Like :meth:`callback_update`, finding the callback button by its label."""
        key = (int(message["chat"]["id"]), int(message["message_id"]))
        current = self._messages.get(key) or message
        for row in current.get("reply_markup", {}).get("inline_keyboard", []):
            for button in row:
                if button.get("text") == text and "callback_data" in button:
                    return self.callback_update(user, current, button["callback_data"])
        raise ValueError(f"no callback button labelled {text!r} on message {key}")

    def my_chat_member_update(
        self,
        chat: JSON,
        user: JSON,
        *,
        old_status: ChatMemberStatus = "left",
        new_status: ChatMemberStatus = "member",
    ) -> JSON:
        """The bot's own membership changed (added to a group by ``user``, blocked in private by
        ``user`` with ``new_status="kicked"``, ...)."""
        chat_id = int(chat["id"])
        if new_status in ("left", "kicked"):
            if chat["type"] == "private":
                self._blocked.add(chat_id)
            else:
                self._kicked.add(chat_id)
        else:
            self._blocked.discard(chat_id)
            self._kicked.discard(chat_id)
        self._members[(chat_id, self.bot_id)] = new_status
        body = {
            "chat": copy.deepcopy(chat),
            "from": _user_fields(user),
            "date": int(time.time()),
            "old_chat_member": _chat_member(self.bot_user, old_status),
            "new_chat_member": _chat_member(self.bot_user, new_status),
        }
        return self._wrap("my_chat_member", body)

    def chat_member_update(
        self,
        chat: JSON,
        member: JSON,
        *,
        old_status: ChatMemberStatus = "left",
        new_status: ChatMemberStatus = "member",
        by: JSON | None = None,
    ) -> JSON:
        """A ``chat_member`` update (only delivered if the bot asked for it in
        ``allowed_updates``)."""
        self._members[(int(chat["id"]), int(member["id"]))] = new_status
        body = {
            "chat": copy.deepcopy(chat),
            "from": _user_fields(by or member),
            "date": int(time.time()),
            "old_chat_member": _chat_member(member, old_status),
            "new_chat_member": _chat_member(member, new_status),
        }
        return self._wrap("chat_member", body)

    # ------------------------------------------------------------------ pushing & webhooks

    def push_update(self, update: JSON) -> JSON:
        """Queue an update for ``getUpdates`` and wake a pending long poll. Returns the update.

        If the update's id is not above every id pushed before, it is renumbered (Telegram's
        ids only grow; an older id would be lost once a later one is confirmed). The queue holds
        a snapshot, so re-pushing the same dict queues a second update with a new id instead of
        renumbering the one already queued."""
        if int(update["update_id"]) <= self._last_pushed_update_id:
            update["update_id"] = self.next_update_id()
        self._last_pushed_update_id = int(update["update_id"])
        if self.privacy_mode and not self._visible_in_privacy_mode(update):
            self.withheld_updates.append(update)
            return update
        self._queue.append(copy.deepcopy(update))
        self._poke()
        return update

    def push_updates(self, updates: Iterable[JSON]) -> list[JSON]:
        return [self.push_update(u) for u in updates]

    async def post_to_webhook(
        self,
        url: str | None,
        update: JSON,
        secret: str | _Default | None = _DEFAULT,
        *,
        timeout: float = 10.0,  # noqa: ASYNC109 - passed to aiohttp
    ) -> int:
        """POST ``update`` like Telegram delivers to webhooks; return the HTTP status.

        ``url=None`` uses the URL the bot registered with ``setWebhook``; ``secret`` defaults to
        the registered ``secret_token`` (pass ``None`` to omit the header, or a wrong value to
        test rejection)."""
        target = url or self.webhook.url
        if not target:
            raise AssertionError("no webhook URL given and none registered with setWebhook")
        token = self.webhook.secret_token if isinstance(secret, _Default) else secret
        headers = {"Content-Type": "application/json"}
        if token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = token
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        async with self._session.post(
            target,
            data=json.dumps(update).encode(),
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as resp:
            body = await resp.read()
            if resp.status == 200 and body and resp.content_type == "application/json":
                await self._webhook_reply(json.loads(body))
            return resp.status

    async def _webhook_reply(self, body: Any) -> None:
        """Telegram runs one Bot API method given in a webhook's response body (its result is
        not reported back); recorded like any other call."""
        if not isinstance(body, dict) or not isinstance(body.get("method"), str):
            return
        params = {k: v for k, v in body.items() if k != "method"}
        call = Call(method=body["method"], params=params, at=time.monotonic(), http_method="POST")
        self.calls.append(call)
        call.status, call.response = await self._dispatch(call, token_ok=True)
        await self._notify()

    # ------------------------------------------------------------------ model internals

    def _alloc_message_id(self, chat_id: int) -> int:
        mid = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = mid + 1
        return mid

    def _store(self, msg: JSON) -> JSON:
        """Store a message (keeping an insertion sequence) and return a public copy."""
        msg["_seq"] = next(self._seq_counter)
        self._messages[(int(msg["chat"]["id"]), int(msg["message_id"]))] = msg
        return _public(msg)

    def _wrap(self, kind: str, body: JSON) -> JSON:
        return {"update_id": self.next_update_id(), kind: body}

    def _ensure_chat_registered(self, chat: JSON) -> None:
        cid = int(chat["id"])
        if cid not in self._chats:
            self._chats[cid] = copy.deepcopy(chat)
            if chat.get("type") == "private":
                self._private_started.add(cid)

    def _store_topic(
        self, chat: JSON, name: str, *, creator: JSON | None, icon_color: int, thread_id: int = 0
    ) -> JSON:
        chat_id = int(chat["id"])
        stored_chat = self._chats.get(chat_id, chat)
        if not stored_chat.get("is_forum"):
            raise ValueError(f"chat {chat_id} is not a forum (use group(..., forum=True))")
        self._ensure_chat_registered(chat)
        if thread_id:
            if (chat_id, thread_id) in self._messages:
                raise ValueError(f"message {thread_id} in chat {chat_id} is not a forum topic")
            mid = thread_id
            self._next_message_id[chat_id] = max(self._next_message_id.get(chat_id, 1), mid + 1)
        else:
            mid = self._alloc_message_id(chat_id)
        msg: JSON = {
            "message_id": mid,
            "from": _user_fields(creator) if creator else self.bot_user,
            "chat": copy.deepcopy(stored_chat),
            "date": int(time.time()),
            "message_thread_id": mid,
            "forum_topic_created": {"name": name, "icon_color": icon_color},
            "is_topic_message": True,
        }
        self._store(msg)
        self._topics.setdefault(chat_id, {})[mid] = msg
        return msg

    def _topic_root(self, chat_id: int, thread_id: int) -> JSON | None:
        return self._topics.get(chat_id, {}).get(thread_id)

    def _new_message(
        self,
        chat: JSON,
        sender: JSON,
        *,
        thread_id: int | None = None,
        reply_to: JSON | None = None,
    ) -> JSON:
        """A user message skeleton (for builders), with thread/reply fields like Telegram."""
        self._ensure_chat_registered(chat)
        chat_id = int(chat["id"])
        stored_chat = self._chats[chat_id]
        self._users.setdefault(int(sender["id"]), _user_fields(sender))
        reply_src: JSON | None = None
        if reply_to is not None:
            key = (int(reply_to["chat"]["id"]), int(reply_to["message_id"]))
            reply_src = self._messages.get(key, reply_to)
            if thread_id is None and reply_src.get("message_thread_id") is not None:
                thread_id = int(reply_src["message_thread_id"])
        if (
            thread_id is not None
            and stored_chat.get("is_forum")
            and self._topic_root(chat_id, thread_id) is None
        ):
            self._store_topic(
                stored_chat,
                f"Topic {thread_id}",
                creator=None,
                icon_color=7322096,
                thread_id=thread_id,
            )
        msg: JSON = {
            "message_id": self._alloc_message_id(chat_id),
            "from": _user_fields(sender),
            "chat": copy.deepcopy(stored_chat),
            "date": int(time.time()),
        }
        self._apply_thread_and_reply(msg, stored_chat, thread_id, reply_src)
        return msg

    def _apply_thread_and_reply(
        self, msg: JSON, chat: JSON, thread_id: int | None, reply_src: JSON | None
    ) -> None:
        chat_id = int(chat["id"])
        if chat.get("is_forum") and thread_id is not None:
            msg["message_thread_id"] = thread_id
            msg["is_topic_message"] = True
            if reply_src is None:
                reply_src = self._topic_root(chat_id, thread_id)
        elif chat.get("type") == "supergroup" and not chat.get("is_forum") and reply_src:
            # replies in ordinary supergroups belong to the reply thread of their root
            msg["message_thread_id"] = int(
                reply_src.get("message_thread_id") or reply_src["message_id"]
            )
        if reply_src is not None:
            reply = _public(reply_src)
            reply.pop("reply_to_message", None)
            msg["reply_to_message"] = reply

    def _visible_in_privacy_mode(self, update: JSON) -> bool:
        msg = update.get("message") or update.get("edited_message")
        if msg is None or msg["chat"]["type"] not in ("group", "supergroup"):
            return True
        if (
            "text" not in msg
            and "caption" not in msg
            and "photo" not in msg
            and "sticker" not in msg
        ):
            return True  # service message
        text = msg.get("text") or msg.get("caption") or ""
        command = _COMMAND_RE.match(text)
        if command:
            _, _, target = command.group(0).partition("@")
            return not target or target.lower() == self.bot_username.lower()
        reply = msg.get("reply_to_message")
        if (
            reply
            and reply.get("from", {}).get("id") == self.bot_id
            and not reply.get("forum_topic_created")
        ):
            return True
        return f"@{self.bot_username.lower()}" in text.lower()

    def _resolve_chat(self, raw: Any, *, for_sending: bool = True) -> JSON:
        if raw is None or raw == "":
            raise _ApiError(400, "Bad Request: chat_id is empty")
        if isinstance(raw, str) and not raw.lstrip("-").isdigit():
            wanted = raw.lstrip("@").lower()
            for chat in self._chats.values():
                if str(chat.get("username", "")).lower() == wanted:
                    raw = chat["id"]
                    break
            else:
                raise _ApiError(400, "Bad Request: chat not found")
        try:
            chat_id = int(raw)
        except (TypeError, ValueError):
            raise _ApiError(400, "Bad Request: chat not found") from None
        if chat_id in self._migrated:
            raise _ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self._migrated[chat_id]},
            )
        if chat_id not in self._chats:
            if chat_id > 0 and chat_id in self._users:
                raise _ApiError(403, "Forbidden: bot can't initiate conversation with a user")
            if self.strict_chats:
                raise _ApiError(400, "Bad Request: chat not found")
            if chat_id > 0:
                self.private_chat(self.user(chat_id, f"User{chat_id}"))
            else:
                self.group(chat_id, f"Chat {chat_id}")
        chat = self._chats[chat_id]
        if for_sending:
            if chat_id in self._blocked:
                raise _ApiError(403, "Forbidden: bot was blocked by the user")
            if chat_id in self._kicked:
                kind = chat["type"]
                if kind == "channel":
                    raise _ApiError(403, "Forbidden: bot is not a member of the channel chat")
                raise _ApiError(403, f"Forbidden: bot was kicked from the {kind} chat")
            if chat["type"] == "private" and chat_id not in self._private_started:
                raise _ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat

    def _resolve_thread(self, chat: JSON, params: dict[str, Any]) -> int | None:
        thread_id = _opt_int(params, "message_thread_id")
        if thread_id is None:
            return None
        chat_id = int(chat["id"])
        if chat.get("is_forum"):
            if self._topic_root(chat_id, thread_id) is None:
                raise _ApiError(400, "Bad Request: message thread not found")
            return thread_id
        if chat["type"] == "supergroup":
            if (chat_id, thread_id) not in self._messages:
                raise _ApiError(400, "Bad Request: message thread not found")
            return thread_id
        return None  # ignored in private chats and basic groups

    def _resolve_reply(self, chat: JSON, params: dict[str, Any]) -> JSON | None:
        reply_params = params.get("reply_parameters")
        legacy = _opt_int(params, "reply_to_message_id")
        if reply_params is None and legacy is None:
            return None
        if reply_params is None:
            reply_params = {
                "message_id": legacy,
                "allow_sending_without_reply": params.get("allow_sending_without_reply", False),
            }
        if not isinstance(reply_params, dict) or "message_id" not in reply_params:
            raise _ApiError(400, "Bad Request: can't parse reply parameters JSON object")
        reply_chat_id = int(chat["id"])
        if reply_params.get("chat_id") is not None:
            reply_chat_id = int(
                self._resolve_chat(reply_params["chat_id"], for_sending=False)["id"]
            )
        target = self._messages.get((reply_chat_id, int(reply_params["message_id"])))
        if target is None:
            if reply_params.get("allow_sending_without_reply"):
                return None
            raise _ApiError(400, "Bad Request: message to be replied not found")
        return target

    def _stored_message_for_edit(self, params: dict[str, Any], what: str) -> JSON:
        chat = self._resolve_chat(params.get("chat_id"))
        message_id = _opt_int(params, "message_id")
        if message_id is None:
            raise _ApiError(400, "Bad Request: message identifier is not specified")
        msg = self._messages.get((int(chat["id"]), message_id))
        if msg is None:
            raise _ApiError(400, f"Bad Request: message to {what} not found")
        return msg

    # ------------------------------------------------------------------ Bot API methods

    async def _m_true(self, params: dict[str, Any]) -> bool:
        return True

    async def _m_get_me(self, params: dict[str, Any]) -> JSON:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _m_get_updates(self, params: dict[str, Any]) -> list[JSON]:
        self._polls_received += 1
        if self.webhook.url:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        offset = _opt_int(params, "offset")
        limit = min(max(_opt_int(params, "limit") or 100, 1), 100)
        raw_timeout = params.get("timeout", 0)
        try:
            timeout = max(float(raw_timeout or 0), 0.0)
        except (TypeError, ValueError):
            raise _ApiError(400, "Bad Request: invalid timeout specified") from None
        allowed = params.get("allowed_updates")
        if allowed is not None:
            if not isinstance(allowed, list):
                raise _ApiError(400, "Bad Request: can't parse allowed updates JSON array")
            self._allowed_updates = (
                frozenset(str(a) for a in allowed) if allowed else DEFAULT_ALLOWED_UPDATES
            )
        self._confirm(offset)

        self._poll_generation += 1
        generation = self._poll_generation
        await self._notify()  # wakes (and so terminates) an older pending poll

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        self._parked_polls += 1
        try:
            async with self._cond:
                while True:
                    batch = self._deliverable(limit)
                    if batch or self._closing:
                        return batch
                    if generation != self._poll_generation:
                        raise _ApiError(
                            409,
                            "Conflict: terminated by other getUpdates request; make sure that "
                            "only one bot instance is running",
                        )
                    remaining = deadline - loop.time()
                    if remaining <= 0:
                        return []
                    try:
                        async with asyncio.timeout(remaining):
                            await self._cond.wait()
                    except TimeoutError:
                        return self._deliverable(limit)
        finally:
            self._parked_polls -= 1
            self._poke()

    def _confirm(self, offset: int | None) -> None:
        if offset is None or offset == 0:
            return
        before = len(self._queue)
        if offset > 0:
            self._queue = [u for u in self._queue if int(u["update_id"]) >= offset]
        else:
            self._queue = self._queue[offset:]
        if len(self._queue) != before:
            self._poke()

    def _deliverable(self, limit: int) -> list[JSON]:
        kept = [u for u in self._queue if _update_kind(u) in self._allowed_updates]
        if len(kept) != len(self._queue):
            # Telegram never creates updates of types the bot did not ask for
            self.withheld_updates.extend(u for u in self._queue if u not in kept)
            self._queue = kept
            self._poke()
        return copy.deepcopy(self._queue[:limit])

    async def _m_set_webhook(self, params: dict[str, Any]) -> bool:
        url = str(params.get("url") or "")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_RE.match(str(secret)):
            raise _ApiError(400, "Bad Request: secret token contains unallowed characters")
        if url and self.require_https_webhook:
            if not url.startswith("https://"):
                raise _ApiError(
                    400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
                )
            port = URL(url).port
            if port not in (443, 80, 88, 8443):
                raise _ApiError(
                    400,
                    "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 "
                    "or 8443",
                )
        if params.get("drop_pending_updates"):
            self._queue.clear()
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = (
                frozenset(str(a) for a in allowed) if allowed else DEFAULT_ALLOWED_UPDATES
            )
        self.webhook = WebhookState(
            url=url,
            secret_token=str(secret) if secret is not None and url else None,
            allowed_updates=list(allowed) if isinstance(allowed, list) else None,
            max_connections=_opt_int(params, "max_connections") if url else None,
            ip_address=str(params["ip_address"]) if url and params.get("ip_address") else None,
        )
        await self._notify()
        return True

    async def _m_delete_webhook(self, params: dict[str, Any]) -> bool:
        if params.get("drop_pending_updates"):
            self._queue.clear()
        self.webhook = WebhookState()
        return True

    async def _m_get_webhook_info(self, params: dict[str, Any]) -> JSON:
        info: JSON = {
            "url": self.webhook.url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }
        if self.webhook.url:
            info["max_connections"] = self.webhook.max_connections or 40
            if self.webhook.ip_address:
                info["ip_address"] = self.webhook.ip_address
            if self.webhook.allowed_updates is not None:
                info["allowed_updates"] = self.webhook.allowed_updates
        return info

    async def _m_send_message(self, params: dict[str, Any]) -> JSON:
        chat = self._resolve_chat(params.get("chat_id"))
        raw_text = params.get("text")
        if raw_text is None or str(raw_text) == "":
            raise _ApiError(400, "Bad Request: message text is empty")
        text, entities = _render_text(
            str(raw_text), _opt_str(params, "parse_mode"), params.get("entities")
        )
        if not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if _u16(text) > 4096:
            raise _ApiError(400, "Bad Request: message is too long")
        markup = _validate_reply_markup(params.get("reply_markup"))
        thread_id = self._resolve_thread(chat, params)
        reply_src = self._resolve_reply(chat, params)
        if thread_id is None and reply_src is not None and chat.get("is_forum"):
            thread_id = reply_src.get("message_thread_id")  # a reply lands in its topic
        chat_id = int(chat["id"])
        msg: JSON = {
            "message_id": self._alloc_message_id(chat_id),
            "from": self.bot_user,
            "chat": copy.deepcopy(chat),
            "date": int(time.time()),
        }
        self._apply_thread_and_reply(msg, chat, thread_id, reply_src)
        msg["text"] = text
        if entities:
            msg["entities"] = entities
        if params.get("protect_content"):
            msg["has_protected_content"] = True
        if markup is not None and "inline_keyboard" in markup:
            msg["reply_markup"] = {"inline_keyboard": markup["inline_keyboard"]}
        if isinstance(params.get("link_preview_options"), dict):
            msg["link_preview_options"] = params["link_preview_options"]
        return self._store(msg)

    async def _m_edit_message_text(self, params: dict[str, Any]) -> JSON | bool:
        raw_text = params.get("text")
        if raw_text is None or str(raw_text) == "":
            raise _ApiError(400, "Bad Request: message text is empty")
        text, entities = _render_text(
            str(raw_text), _opt_str(params, "parse_mode"), params.get("entities")
        )
        markup = _validate_reply_markup(params.get("reply_markup"))
        if markup is not None and "inline_keyboard" not in markup:
            raise _ApiError(400, "Bad Request: inline keyboard expected")
        if params.get("inline_message_id"):
            return True
        msg = self._stored_message_for_edit(params, "edit")
        if msg.get("from", {}).get("id") != self.bot_id:
            raise _ApiError(400, "Bad Request: message can't be edited")
        if "text" not in msg:
            raise _ApiError(400, "Bad Request: there is no text in the message to edit")
        if _u16(text) > 4096:
            raise _ApiError(400, "Bad Request: message is too long")
        new_markup = {"inline_keyboard": markup["inline_keyboard"]} if markup else None
        if (
            msg["text"] == text
            and msg.get("entities", []) == entities
            and msg.get("reply_markup") == new_markup
        ):
            raise _ApiError(400, _NOT_MODIFIED)
        msg["text"] = text
        if entities:
            msg["entities"] = entities
        else:
            msg.pop("entities", None)
        if new_markup is None:
            msg.pop("reply_markup", None)  # Telegram drops the keyboard if none is passed
        else:
            msg["reply_markup"] = new_markup
        msg["edit_date"] = max(int(time.time()), int(msg["date"]) + 1)
        return _public(msg)

    async def _m_edit_message_reply_markup(self, params: dict[str, Any]) -> JSON | bool:
        markup = _validate_reply_markup(params.get("reply_markup"))
        if markup is not None and "inline_keyboard" not in markup:
            raise _ApiError(400, "Bad Request: inline keyboard expected")
        if params.get("inline_message_id"):
            return True
        msg = self._stored_message_for_edit(params, "edit")
        if msg.get("from", {}).get("id") != self.bot_id:
            raise _ApiError(400, "Bad Request: message can't be edited")
        new_markup = (
            {"inline_keyboard": markup["inline_keyboard"]}
            if markup and markup["inline_keyboard"]
            else None
        )
        if msg.get("reply_markup") == new_markup:
            raise _ApiError(400, _NOT_MODIFIED)
        if new_markup is None:
            msg.pop("reply_markup", None)
        else:
            msg["reply_markup"] = new_markup
        msg["edit_date"] = max(int(time.time()), int(msg["date"]) + 1)
        return _public(msg)

    async def _m_delete_message(self, params: dict[str, Any]) -> bool:
        msg = self._stored_message_for_edit(params, "delete")
        del self._messages[(int(msg["chat"]["id"]), int(msg["message_id"]))]
        self.deleted_messages.append(_public(msg))
        return True

    async def _m_answer_callback_query(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        text = _opt_str(params, "text")
        accepted = query_id in self._callback_queries and query_id not in self._answered_queries
        self.callback_answers.append(
            CallbackAnswer(
                callback_query_id=query_id,
                text=text,
                show_alert=bool(params.get("show_alert", False)),
                url=_opt_str(params, "url"),
                cache_time=_opt_int(params, "cache_time"),
                accepted=accepted,
                time=time.monotonic(),
            )
        )
        if not accepted:
            raise _ApiError(400, _QUERY_INVALID)
        if text is not None and len(text) > 200:
            raise _ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self._answered_queries.add(query_id)
        return True

    async def _m_send_chat_action(self, params: dict[str, Any]) -> bool:
        chat = self._resolve_chat(params.get("chat_id"))
        if params.get("action") not in _CHAT_ACTIONS:
            raise _ApiError(400, "Bad Request: wrong parameter action in request")
        self._resolve_thread(chat, params)
        return True

    async def _m_set_my_commands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _ApiError(400, "Bad Request: can't parse commands JSON object")
        if len(commands) > 100:
            raise _ApiError(400, "Bad Request: too many commands")
        clean: list[JSON] = []
        for cmd in commands:
            if not isinstance(cmd, dict):
                raise _ApiError(400, "Bad Request: can't parse BotCommand JSON object")
            name = str(cmd.get("command", ""))
            desc = str(cmd.get("description", ""))
            if not _BOT_COMMAND_NAME_RE.match(name):
                raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(desc) <= 256:
                raise _ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
            clean.append({"command": name, "description": desc})
        key = _scope_key(params.get("scope"), _opt_str(params, "language_code") or "")
        if clean:
            self._commands[key] = clean
        else:
            self._commands.pop(key, None)
        return True

    async def _m_get_my_commands(self, params: dict[str, Any]) -> list[JSON]:
        key = _scope_key(params.get("scope"), _opt_str(params, "language_code") or "")
        return copy.deepcopy(self._commands.get(key, []))

    async def _m_delete_my_commands(self, params: dict[str, Any]) -> bool:
        key = _scope_key(params.get("scope"), _opt_str(params, "language_code") or "")
        self._commands.pop(key, None)
        return True

    async def _m_get_chat(self, params: dict[str, Any]) -> JSON:
        chat = copy.deepcopy(self._resolve_chat(params.get("chat_id"), for_sending=False))
        chat.pop("all_members_are_administrators", None)
        chat.update(
            {
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }
        )
        if chat["type"] in ("group", "supergroup"):
            chat["permissions"] = {
                "can_send_messages": True,
                "can_send_audios": True,
                "can_send_documents": True,
                "can_send_photos": True,
                "can_send_videos": True,
                "can_send_video_notes": True,
                "can_send_voice_notes": True,
                "can_send_polls": True,
                "can_send_other_messages": True,
                "can_add_web_page_previews": True,
                "can_change_info": False,
                "can_invite_users": True,
                "can_pin_messages": False,
                "can_manage_topics": False,
            }
        return chat

    async def _m_get_chat_member(self, params: dict[str, Any]) -> JSON:
        chat = self._resolve_chat(params.get("chat_id"), for_sending=False)
        user_id = _opt_int(params, "user_id")
        if user_id is None:
            raise _ApiError(400, "Bad Request: user_id is empty")
        user = self.bot_user if user_id == self.bot_id else self._users.get(user_id)
        if user is None:
            raise _ApiError(400, "Bad Request: user not found")
        return _chat_member(user, self._members.get((int(chat["id"]), user_id), "member"))

    async def _m_get_chat_administrators(self, params: dict[str, Any]) -> list[JSON]:
        chat = self._resolve_chat(params.get("chat_id"), for_sending=False)
        if chat["type"] == "private":
            raise _ApiError(400, "Bad Request: there are no administrators in the private chat")
        chat_id = int(chat["id"])
        admins = []
        for (cid, uid), status in self._members.items():
            if cid != chat_id or status not in ("creator", "administrator"):
                continue
            user = self.bot_user if uid == self.bot_id else self._users.get(uid)
            if user is not None:
                admins.append(_chat_member(user, status))
        return admins


# --------------------------------------------------------------------------------------------
# Module helpers
# --------------------------------------------------------------------------------------------


def _decode_form_value(key: str, value: str) -> Any:
    if key in _STRING_PARAMS:
        return value

    def reject_constant(name: str) -> Any:
        raise ValueError(name)

    try:
        decoded = json.loads(value, parse_constant=reject_constant)
    except ValueError:
        return value
    if isinstance(decoded, str):
        return value
    return decoded


def _opt_int(params: Mapping[str, Any], name: str) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise _ApiError(400, f"Bad Request: invalid {name} specified")
    if isinstance(value, int):
        return value
    try:
        return int(str(value))
    except ValueError:
        raise _ApiError(400, f"Bad Request: invalid {name} specified") from None


def _opt_str(params: Mapping[str, Any], name: str) -> str | None:
    value = params.get(name)
    return None if value is None else str(value)


def _public(msg: JSON) -> JSON:
    """A deep copy without the fake's bookkeeping keys."""
    out = copy.deepcopy(msg)
    out.pop("_seq", None)
    reply = out.get("reply_to_message")
    if isinstance(reply, dict):
        reply.pop("_seq", None)
    return out


def _user_fields(user: Mapping[str, Any]) -> JSON:
    keys = ("id", "is_bot", "first_name", "last_name", "username", "language_code", "is_premium")
    out = {k: user[k] for k in keys if k in user}
    out.setdefault("is_bot", False)
    return out


def _chat_instance(chat_id: int) -> str:
    """A stable opaque id per chat, shaped like Telegram's (a signed 64-bit number)."""
    return str(-((abs(chat_id) * 2_654_435_761) % 9_000_000_000_000_000_000) - 1)


def _scope_key(scope: Any, language_code: str) -> tuple[str, str]:
    if scope is None:
        scope = {"type": "default"}
    return json.dumps(scope, sort_keys=True), language_code


def _update_kind(update: Mapping[str, Any]) -> str:
    for key in update:
        if key != "update_id":
            return key
    return ""


def _chat_member(user: Mapping[str, Any], status: ChatMemberStatus) -> JSON:
    member: JSON = {"status": status, "user": _user_fields(user)}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member.update(
            {
                "can_be_edited": False,
                "is_anonymous": False,
                "can_manage_chat": True,
                "can_delete_messages": True,
                "can_manage_video_chats": True,
                "can_restrict_members": True,
                "can_promote_members": False,
                "can_change_info": True,
                "can_invite_users": True,
                "can_post_stories": False,
                "can_edit_stories": False,
                "can_delete_stories": False,
                "can_pin_messages": True,
                "can_manage_topics": True,
            }
        )
    elif status == "restricted":
        member.update(
            {
                "is_member": True,
                "can_change_info": False,
                "can_invite_users": False,
                "can_pin_messages": False,
                "can_send_messages": False,
                "can_send_polls": False,
                "can_send_other_messages": False,
                "can_add_web_page_previews": False,
                "can_manage_topics": False,
                "can_send_audios": False,
                "can_send_documents": False,
                "can_send_photos": False,
                "can_send_videos": False,
                "can_send_video_notes": False,
                "can_send_voice_notes": False,
                "can_edit_tag": False,
                "until_date": 0,
            }
        )
    elif status == "kicked":
        member["until_date"] = 0
    return member


def _validate_reply_markup(markup: Any) -> JSON | None:
    if markup is None or markup == "":
        return None
    if isinstance(markup, str):
        raise _ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    if not isinstance(markup, dict):
        raise _ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    kinds = [
        k for k in ("inline_keyboard", "keyboard", "remove_keyboard", "force_reply") if k in markup
    ]
    if len(kinds) != 1:
        raise _ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    if kinds[0] != "inline_keyboard":
        return markup
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise _ApiError(
            400,
            "Bad Request: can't parse inline keyboard button: field "
            '"inline_keyboard" must be an Array of Arrays',
        )
    total = 0
    for row in rows:
        for button in row:
            total += 1
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise _ApiError(
                    400,
                    "Bad Request: can't parse inline keyboard button: Text "
                    "buttons are unallowed in the inline keyboard",
                )
            if not button["text"].strip():
                raise _ApiError(400, "Bad Request: BUTTON_TEXT_INVALID")
            actions = [a for a in _INLINE_BUTTON_ACTIONS if a in button]
            if len(actions) != 1:
                raise _ApiError(
                    400,
                    "Bad Request: can't parse inline keyboard button: Text "
                    "buttons are unallowed in the inline keyboard",
                )
            if "callback_data" in button:
                data = button["callback_data"]
                if not isinstance(data, str) or not 1 <= len(data.encode()) <= 64:
                    raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            if "url" in button and not re.match(r"^(https?|tg)://\S+$", str(button["url"])):
                raise _ApiError(400, "Bad Request: BUTTON_URL_INVALID")
    if total > 100:
        raise _ApiError(400, "Bad Request: reply markup is too long")
    return markup
