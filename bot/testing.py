"""Test doubles for testing your own handlers: a recording adapter, a fake clock and events.

Nothing here touches a platform or the network; it depends only on the core (``bot/``), so
handler, service and application tests can all use it. See "Testing your own handlers" in
docs/architecture.md.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiohttp import web

from bot.adapter import Capabilities, Dispatch
from bot.errors import DeliveryError
from bot.events import Actor, Event, EventKind, MessageRef, Target
from bot.grammar import ParsedCommand
from bot.views import Card, View

__all__ = ["FakeClock", "People", "RecordingAdapter", "Sent"]


class FakeClock:
    """A clock the test moves by hand: pass it as ``Townhall(..., clock=clock)``."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 28, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        """``clock.advance(hours=2)``: any ``timedelta`` keyword."""
        self.now += timedelta(**kwargs)


@dataclass
class Sent:
    """One message the core sent through a :class:`RecordingAdapter`, with its later edits."""

    target: Target
    view: View
    ref: MessageRef
    reply_to: str | None = None
    edits: list[View] = field(default_factory=list)

    @property
    def current(self) -> View:
        return self.edits[-1] if self.edits else self.view


class RecordingAdapter:
    """An in-memory platform: records what the core sends and edits, can be told to fail.

    Append a :class:`bot.errors.DeliveryError` to ``failures`` to make the next send or edit
    raise it (the outbox then retries or gives up, as it would on a real platform).
    """

    capabilities = Capabilities(buttons=True, modals=True, threads=True, ephemeral=True)

    def __init__(self, name: str = "test") -> None:
        self.name = name
        self.sent: list[Sent] = []
        self.by_id: dict[str, Sent] = {}
        self.failures: list[DeliveryError] = []
        #: What channel_name() answers, by channel id (none: the platform cannot say).
        self.channel_names: dict[str, str] = {}
        self._ids = itertools.count(100)
        self.dispatch: Dispatch | None = None

    @property
    def connected(self) -> bool:
        return self.dispatch is not None

    def http_routes(self) -> list[web.RouteDef]:
        return []

    async def start(self, dispatch: Dispatch) -> None:
        self.dispatch = dispatch

    async def stop(self) -> None:
        self.dispatch = None

    async def send(
        self, target: Target, view: View, *, reply_to: str | None = None, key: str | None = None
    ) -> MessageRef:
        if self.failures:
            raise self.failures.pop(0)
        ref = MessageRef(self.name, target.channel_id, str(next(self._ids)), target.thread_id)
        sent = Sent(target, view, ref, reply_to)
        self.sent.append(sent)
        self.by_id[ref.message_id] = sent
        return ref

    async def channel_name(self, target: Target) -> str | None:
        return self.channel_names.get(target.channel_id)

    async def edit(self, ref: MessageRef, view: View) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.by_id[ref.message_id].edits.append(view)

    def cards(self) -> list[Card]:
        return [s.view for s in self.sent if isinstance(s.view, Card)]


class People:
    """Builds events as a given person on a given platform would cause them."""

    def __init__(self, platform: str = "test", channel: str = "C1") -> None:
        self.platform = platform
        self.channel = channel

    def _event(
        self, user: str, kind: EventKind, event_id: str | None = None, **kw: object
    ) -> Event:
        return Event(
            self.platform,
            event_id or uuid.uuid4().hex,
            kind,
            Actor(user, user.title()),
            Target(self.channel, message_id=str(uuid.uuid4().int % 10**9)),
            **kw,  # type: ignore[arg-type]
        )

    def command(self, user: str, text: str, event_id: str | None = None) -> Event:
        """``user`` types a command in the core grammar, e.g. ``poll "Q?" "A" "B"``."""
        return self._event(user, EventKind.COMMAND, event_id, text=text)

    def parsed_command(self, user: str, command: ParsedCommand) -> Event:
        """``user`` sends a command already parsed (a form, a slash command's options)."""
        return self._event(user, EventKind.COMMAND, None, text=command.name, command=command)

    def click(self, user: str, item_id: str, position: int, event_id: str | None = None) -> Event:
        """``user`` presses the vote button for option ``position`` (1-based)."""
        return self._event(
            user, EventKind.ACTION, event_id, action_id="vote", action_value=f"{item_id}:{position}"
        )

    def click_button(self, user: str, action_id: str, value: str) -> Event:
        """``user`` presses any button the core rendered (``Button.action_id``/``value``)."""
        return self._event(user, EventKind.ACTION, None, action_id=action_id, action_value=value)

    def submit(self, user: str, item_id: str, text: str, event_id: str | None = None) -> Event:
        """``user`` answers an open question (a form, a modal, a reply)."""
        return self._event(
            user, EventKind.SUBMIT, event_id, action_id="answer", action_value=item_id, text=text
        )

    def submit_form(self, user: str, action_id: str, value: str, text: str = "") -> Event:
        """A form submitted with ``action_id`` and ``value`` (e.g. the dashboard's forms)."""
        return self._event(
            user, EventKind.SUBMIT, None, action_id=action_id, action_value=value, text=text
        )

    def reply(self, user: str, message_id: str, text: str, event_id: str | None = None) -> Event:
        return self._event(user, EventKind.REPLY, event_id, text=text, reply_to=message_id)
