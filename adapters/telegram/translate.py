"""Telegram updates -> core events. Pure functions: no network, no database.

What becomes an event:

* a callback query on one of our inline buttons -> ACTION (``callback_data`` is the button's
  ``custom_id``: ``action_id:value``);
* a text message starting with a bot command -> COMMAND (the whole text; the core strips
  ``/`` and ``@BotName``), unless it is addressed to another bot (``/cmd@SomeOtherBot``). When
  the command replies to a message, ``reply_to`` is that message (``/report`` on an answer);
* text, or a media caption, written in reply to one of our messages -> REPLY;
* other text in a private chat -> TEXT.

Everything else (group chatter, stickers, photos without caption, service messages, edited
messages, channel posts, messages from bots) is not an event and returns ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram import Message, MessageEntity, Update, User
from telegram.constants import ChatType

from adapters.telegram.render import MAX_CALLBACK_TEXT
from bot.events import Actor, Event, EventKind, Target

PLATFORM = "telegram"

#: Update types we ask Telegram for (``allowed_updates``); it never creates the others.
ALLOWED_UPDATES = ("message", "callback_query")


@dataclass(frozen=True, slots=True)
class BotIdentity:
    """Who we are on Telegram (from ``getMe``): to spot replies to us and commands for us."""

    id: int
    username: str


def to_event(update: Update, me: BotIdentity) -> Event | None:
    """Translate one update; ``None`` when it is not something the core acts on."""
    if update.callback_query is not None:
        return _callback(update, me)
    if update.message is not None:
        return _message(update, update.message, me)
    return None


def _callback(update: Update, me: BotIdentity) -> Event | None:
    query = update.callback_query
    assert query is not None
    if query.data is None or query.message is None:
        return None  # a game button, or a button on an inline-mode message: not ours
    action_id, _, value = query.data.partition(":")
    message = query.message  # may be an InaccessibleMessage (older than 48 h): chat + id only
    thread = _topic_of(message) if isinstance(message, Message) else None
    return Event(
        PLATFORM,
        str(update.update_id),
        EventKind.ACTION,
        _actor(query.from_user),
        Target(
            str(message.chat.id),
            thread,
            str(message.message_id),
            private=message.chat.type == ChatType.PRIVATE,
        ),
        action_id=action_id,
        action_value=value,
        notice_room=MAX_CALLBACK_TEXT,
        raw=update,
    )


def vote_click(data: dict[str, Any]) -> Event | None:
    """A vote button click read straight from the webhook's parsed JSON, as :func:`_callback`
    would translate it, without building python-telegram-bot's objects (the hot path).

    ``None`` for anything else, or anything unusual: that takes the ordinary path.
    """
    query = data.get("callback_query")
    if not isinstance(query, dict):
        return None
    payload, message, user = query.get("data"), query.get("message"), query.get("from")
    if not (isinstance(payload, str) and payload.startswith("vote:")):
        return None
    if not (isinstance(message, dict) and isinstance(user, dict)):
        return None
    chat, message_id, user_id = message.get("chat"), message.get("message_id"), user.get("id")
    if not (
        isinstance(chat, dict)
        and isinstance(chat.get("id"), int)
        and isinstance(message_id, int)
        and isinstance(user_id, int)
        and isinstance(query.get("id"), str)
        and isinstance(user.get("first_name"), str)
    ):
        return None
    names = (user["first_name"], user.get("last_name"))
    topic = message.get("message_thread_id")
    accessible = message.get("date") != 0  # an InaccessibleMessage has only chat and id
    thread = str(topic) if accessible and message.get("is_topic_message") and topic else None
    _, _, value = payload.partition(":")
    return Event(
        PLATFORM,
        str(data["update_id"]),
        EventKind.ACTION,
        Actor(
            str(user_id),
            " ".join(n for n in names if isinstance(n, str) and n),
            language=str(user.get("language_code") or ""),
        ),
        Target(str(chat["id"]), thread, str(message_id), private=chat.get("type") == "private"),
        action_id="vote",
        action_value=value,
        notice_room=MAX_CALLBACK_TEXT,
    )


def _message(update: Update, message: Message, me: BotIdentity) -> Event | None:
    user = message.from_user
    if user is None or user.is_bot:
        return None  # channel posts, anonymous admins, other bots
    text = message.text if message.text is not None else message.caption
    if text is None or not text.strip():
        return None  # stickers, photos without caption, service messages
    private = message.chat.type == ChatType.PRIVATE
    target = Target(
        str(message.chat.id), _topic_of(message), str(message.message_id), private=private
    )

    def event(kind: EventKind, body: str, reply_to: str | None = None) -> Event:
        return Event(
            PLATFORM,
            str(update.update_id),
            kind,
            _actor(user),
            target,
            text=body,
            reply_to=reply_to,
            raw=update,
        )

    command = parse_command(message, me)
    if command is not None:
        _name, addressed, line = command
        if addressed is False:
            return None  # /cmd@SomeOtherBot
        return event(EventKind.COMMAND, line, replied_message_id(message))
    replied = replied_message_id(message, me)
    if replied is not None:
        return event(EventKind.REPLY, text, replied)
    if private:
        return event(EventKind.TEXT, text)
    return None


def parse_command(message: Message, me: BotIdentity) -> tuple[str, bool | None, str] | None:
    """``(name, addressed, line)`` when the text starts with a bot command, else ``None``.

    ``addressed`` is True for ``/cmd@us``, False for ``/cmd@someone_else`` and None for a bare
    ``/cmd``. ``line`` is the text with exactly one space after the command, so that options
    written on the next line (common on phones) still parse.
    """
    text = message.text
    if not text:
        return None
    entity = next(
        (
            e
            for e in message.entities
            if e.type == MessageEntity.BOT_COMMAND and e.offset == 0 and e.length > 1
        ),
        None,
    )
    if entity is None:
        return None
    command = text[: entity.length]  # commands are ASCII: UTF-16 length == str length
    name, _, target = command[1:].partition("@")
    addressed = None if not target else target.lower() == me.username.lower()
    rest = text[entity.length :].strip()
    return name.lower(), addressed, f"{command} {rest}" if rest else command


def replied_message_id(message: Message, me: BotIdentity | None = None) -> str | None:
    """The id of the message this one replies to (only if it is ours, given ``me``).

    In forum topics every message "replies" to the topic's creation message (even when the
    person did not press Reply): that is not a reply, whoever created the topic.
    """
    replied = message.reply_to_message
    if replied is None or replied.forum_topic_created is not None:
        return None
    if me is not None and (replied.from_user is None or replied.from_user.id != me.id):
        return None
    return str(replied.message_id)


def _topic_of(message: Message) -> str | None:
    """The forum topic a message is in; replies in ordinary groups carry a reply-thread id
    too, but that is not a place we can post to."""
    if message.is_topic_message and message.message_thread_id is not None:
        return str(message.message_thread_id)
    return None


def _actor(user: User) -> Actor:
    return Actor(str(user.id), user.full_name, language=user.language_code or "")
