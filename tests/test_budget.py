"""bot.budget.dispatch_within: the one helper Slack and Discord use to answer within their
platform's time budget (inline when the commit lands in time, else acknowledge first)."""

from __future__ import annotations

import asyncio

import pytest

from bot.adapter import Outcome
from bot.budget import dispatch_within
from bot.events import Event
from bot.testing import People

EVENT = People().command("alice", "help")


async def test_a_quick_dispatch_is_answered_inline() -> None:
    seen: list[asyncio.Task[Outcome]] = []

    async def quick(event: Event) -> Outcome:
        return Outcome(handled=True)

    result = await dispatch_within(quick, EVENT, 5.0, started=seen.append)
    assert result == Outcome(handled=True)
    assert len(seen) == 1 and seen[0].done()


async def test_a_slow_dispatch_comes_back_running_and_still_completes() -> None:
    release = asyncio.Event()

    async def slow(event: Event) -> Outcome:
        await release.wait()
        return Outcome(handled=True, duplicate=True)

    result = await dispatch_within(slow, EVENT, 0.0)
    assert isinstance(result, asyncio.Task) and not result.done()
    release.set()
    assert await asyncio.wait_for(result, 5.0) == Outcome(handled=True, duplicate=True)


async def test_a_failure_within_the_budget_is_raised() -> None:
    async def broken(event: Event) -> Outcome:
        raise ConnectionRefusedError("database down")

    with pytest.raises(ConnectionRefusedError):
        await dispatch_within(broken, EVENT, 5.0)
