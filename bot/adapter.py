"""The seam between the core and each platform: what an adapter must offer."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

import structlog
from aiohttp import web

from bot.events import Event, MessageRef, Target
from bot.outcomes import Result
from bot.views import View

log = structlog.get_logger("townhall.adapter")
R = TypeVar("R", bound=Result)


@dataclass(frozen=True, slots=True)
class SendRates:
    """A platform's documented send limits, as ``limits`` strings ("30/second", "20/minute"),
    which the outbox keeps to (``bot/sendrate.py``), shared by every worker.

    ``overall``: every message of the bot; ``per_chat``: one private chat (or any chat, where
    the platform does not tell groups apart); ``per_group``: one group, channel or thread,
    recognised by ``group_prefix`` at the start of its id (Telegram's negative chat ids)."""

    overall: str | None = None
    per_chat: str | None = None
    per_group: str | None = None
    group_prefix: str | None = None


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a platform can do; the core degrades gracefully where it cannot."""

    buttons: bool = True
    modals: bool = False
    threads: bool = False
    ephemeral: bool = False
    edits: bool = True
    max_text: int = 4000
    #: Posting the same message again with the same ``key`` cannot make a second copy (e.g.
    #: Discord's enforced nonce): a send cut short by a crash may simply be repeated.
    idempotent_sends: bool = False
    #: Cards answering a message in a shared chat go to the person's direct messages, not
    #: in place (Telegram: a card's buttons in a group could be pressed by anyone).
    private_cards: bool = False
    #: What the outbox may send per second/minute (none: no limit kept on our side).
    send_rates: SendRates = SendRates()


@dataclass(slots=True)
class Outcome:
    """What dispatching one event did, for the adapter to acknowledge on its platform."""

    handled: bool = False
    duplicate: bool = False
    failed: bool = False
    notices: list[View] = field(default_factory=list)
    #: What the handler did, typed (``bot.outcomes``): for callers that act on it.
    results: list[Result] = field(default_factory=list)
    #: The language the person is answered in (``bot.i18n``): an adapter's own words to them
    #: ("I've sent you that in our private chat") follow it.
    language: str = "en"

    def result(self, kind: type[R]) -> R | None:
        """The last result of this kind, if the handler produced one."""
        found = [r for r in self.results if isinstance(r, kind)]
        return found[-1] if found else None


Dispatch = Callable[[Event], Awaitable[Outcome]]


class Adapter(Protocol):
    """Translate platform payloads into events, and views into platform calls; nothing else."""

    name: str
    capabilities: Capabilities

    async def start(self, dispatch: Dispatch) -> None:
        """Begin receiving; ``dispatch(event)`` returns once the effect is committed."""

    async def stop(self) -> None: ...

    @property
    def connected(self) -> bool:
        """Started and, where there is a connection to keep (a gateway, long polling), it is
        up. ``/readyz`` says not ready while any adapter is not connected."""
        ...

    def http_routes(self) -> list[web.RouteDef]:
        """Routes this adapter serves on Townhall's HTTP server (webhooks); often none."""
        ...

    async def send(
        self, target: Target, view: View, *, reply_to: str | None = None, key: str | None = None
    ) -> MessageRef:
        """Post a message; raise :class:`bot.errors.DeliveryError` when it cannot.

        ``key`` is the same on every attempt to post this message (the outbox row): where the
        platform offers an idempotency key or a look-up by client id, the adapter uses it so
        that a retry after a timeout never posts a second copy."""
        ...

    async def edit(self, ref: MessageRef, view: View) -> None:
        """Replace a message's content; raise :class:`bot.errors.DeliveryError` when it cannot."""

    async def channel_name(self, target: Target) -> str | None:
        """What people call this channel on the platform ("#consultations"), for the
        dashboard; None when the platform cannot say."""
        ...


#: How long publishing waits for a platform to name a channel before going without.
NAME_TIMEOUT = 5.0


async def ask_channel_name(adapter: Adapter, target: Target) -> str | None:
    """The channel's name, or None when the platform cannot or will not say in time: a
    missing name only means the dashboard shows the id, so it never fails a delivery."""
    if target.private:
        return None  # a person's direct messages: no channel name, and theirs is not ours
    try:
        async with asyncio.timeout(NAME_TIMEOUT):
            name = await adapter.channel_name(target)
    except Exception as exc:
        log.info("channel name unavailable", platform=adapter.name, error=type(exc).__name__)
        return None
    name = " ".join((name or "").split())
    return name[:200] or None


@dataclass(frozen=True, slots=True)
class Disabled:
    """An adapter that is not started, and why (shown by ``townhall run``)."""

    name: str
    reason: str
