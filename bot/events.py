"""The one normalized, frozen event type that every adapter produces."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.grammar import ParsedCommand
from bot.inputs import clean


class EventKind(enum.StrEnum):
    COMMAND = "command"  # "/poll ..." or "/townhall poll ..."
    ACTION = "action"  # a button click: action id + value
    SUBMIT = "submit"  # a modal or form submission: action id + value + text
    REPLY = "reply"  # free text in reply to (or in the thread of) one of our messages
    TEXT = "text"  # free text not tied to one of our messages (private chat)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did it: the platform's own user id (never logged) and a display name."""

    user_id: str
    display_name: str = ""
    #: Roles the platform itself vouches for (e.g. a Discord role mapped in settings).
    platform_roles: frozenset[str] = frozenset()
    #: A staff identity that is not a platform user (``dashboard:<email>``): the event's
    #: subject whatever platform it acts on, so the audit log names the account itself.
    staff: str = ""
    #: The language the platform says the person uses (Telegram's ``language_code``,
    #: Discord's interaction ``locale``, the browser's ``Accept-Language``), as sent; the
    #: person's own choice (``language cy``) wins over it.
    language: str = ""

    def __post_init__(self) -> None:
        _clean_fields(self, "user_id", "display_name")


@dataclass(frozen=True, slots=True)
class Target:
    """Where something happened or should go: channel, optional thread and message."""

    channel_id: str
    thread_id: str | None = None
    message_id: str | None = None
    #: Events: the conversation is private between the bot and one person.
    #: Sends: deliver as a direct message to the person whose platform user id is channel_id.
    private: bool = False

    def __post_init__(self) -> None:
        _clean_fields(self, "channel_id", "thread_id", "message_id")


@dataclass(frozen=True, slots=True)
class MessageRef:
    """A message the bot sent, as the platform identifies it."""

    platform: str
    channel_id: str
    message_id: str
    thread_id: str | None = None


@dataclass(frozen=True, slots=True)
class Event:
    """Something a person did on a platform, translated by an adapter."""

    platform: str
    event_id: str
    kind: EventKind
    actor: Actor
    target: Target
    text: str = ""
    action_id: str = ""
    action_value: str = ""
    #: For REPLY: the message of ours being answered (or the thread root).
    reply_to: str | None = None
    #: For COMMAND: the command already parsed (a form, a slash command's options); the
    #: router checks it against the command's spec instead of parsing ``text``.
    command: ParsedCommand | None = None
    #: For ACTION on a surface whose in-place answer is short (a Telegram toast): its length.
    #: A notice longer than this is sent to the person's private chat by the core, durably
    #: (outbox, in the event's transaction), not by the adapter while the click waits.
    notice_room: int | None = None
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    raw: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        # NUL and other control characters: the database refuses some, nobody means any.
        _clean_fields(self, "event_id", "text", "action_id", "action_value", "reply_to")

    @property
    def subject(self) -> str:
        """``platform:user_id``, the form used for roles (a staff identity as it is)."""
        return self.actor.staff or f"{self.platform}:{self.actor.user_id}"


def _clean_fields(obj: object, *names: str) -> None:
    for name in names:
        value = getattr(obj, name)
        if isinstance(value, str):
            cleaned = clean(value)
            if cleaned != value:
                object.__setattr__(obj, name, cleaned)
