"""What every fake platform server shares: one call record, one lifecycle, one unhandled-call
tracker that fails loudly, and one fault-injection vocabulary.

- :class:`Call`: every request a fake answered. ``method`` is what a fault targets (the API
  method for Telegram and Slack, the HTTP verb for Discord, whose calls also carry ``path`` and
  ``route``), ``params``, ``status``, ``response`` and ``at`` (``time.monotonic()``; ``time``
  and ``timestamp`` are aliases for the older names).
- :class:`FakeServer`: ``async with Fake(...) as fake`` starts it on 127.0.0.1 and, on a clean
  exit, fails the test if the bot called anything the fake does not implement
  (``check_unhandled_on_exit``). ``start()`` / ``stop()`` (``close()`` is an alias), ``mark()``
  and ``assert_no_unhandled()`` work the same on every fake.
- Fault injection: ``fake.fail_next(target, status=..., retry_after=..., times=...)`` on every
  fake, where ``target`` is ``"sendMessage"`` (Telegram), ``"chat.postMessage"`` (Slack) or
  ``"POST /channels/\\d+/messages"`` (Discord: verb and a path regex). ``status=429`` answers
  a rate limit the platform's library honours (``retry_after`` seconds); 5xx a server error;
  4xx the platform's own error. Each fake keeps its older positional forms and its own extras
  (Telegram ``predicate=``, Slack ``error=`` and ``hold_next``, Discord ``body=``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, Self


@dataclass(kw_only=True)
class Call:
    """One request a fake received, with the answer it gave."""

    method: str
    params: Any = field(default_factory=dict)
    http_method: str = "POST"
    status: int | None = None
    response: Any = None
    at: float = field(default_factory=time.monotonic)
    """``time.monotonic()`` when the request arrived (Telegram) or was answered."""

    @property
    def time(self) -> float:
        """Alias of :attr:`at` (FakeTelegram's older name)."""
        return self.at

    @property
    def timestamp(self) -> float:
        """Alias of :attr:`at` (FakeDiscord's older name)."""
        return self.at


class FaultInjection(Protocol):
    """The one fault-injection call every fake understands."""

    def fail_next(
        self,
        method: str,
        *,
        status: int,
        retry_after: float | None = None,
        times: int | None = None,
    ) -> None: ...


def times_or_count(times: int | None, count: int) -> int:
    """``times=`` (the shared name) wins over a fake's older ``count=``."""
    value = count if times is None else times
    if value < 1:
        raise ValueError("a fault must happen at least once")
    return value


class FakeServer:
    """Lifecycle and unhandled-call tracking shared by the fakes (a mixin: each fake sets
    ``calls`` and ``unhandled`` in its ``__init__`` and implements ``start``/``stop``)."""

    calls: list[Any]
    unhandled: list[Any]
    check_unhandled_on_exit: bool = True
    label: ClassVar[str] = "the fake"

    async def start(self) -> Any:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        """Alias of :meth:`stop`."""
        await self.stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        await self.stop()
        if exc_type is None and self.check_unhandled_on_exit:
            self.assert_no_unhandled()

    def mark(self) -> int:
        """Number of calls so far; pass as ``since=`` to consider only later ones."""
        return len(self.calls)

    def _unhandled_lines(self) -> list[str]:
        return [f"  {entry!r}" for entry in self.unhandled]

    def assert_no_unhandled(self) -> None:
        """Fail if the bot called anything the fake does not implement (or the fake crashed
        serving a call). Clear ``unhandled`` after provoking one on purpose."""
        lines = self._unhandled_lines()
        if lines:
            raise AssertionError(
                f"{self.label} got {len(lines)} unhandled call(s): it does not implement "
                "(or crashed on):\n" + "\n".join(lines)
            )
