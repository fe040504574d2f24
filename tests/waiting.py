"""One bounded wait for the tests: await a condition on another task's or process's progress."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable

Check = Callable[[], bool | Awaitable[bool]]


async def until(
    check: Check, what: str = "condition", within: float = 30.0, every: float = 0.01
) -> None:
    """Return as soon as ``check()`` is true (it may be a coroutine function); fail after
    ``within`` seconds. For state with nothing to await on (a loop's counters, a database row
    another process writes, a server coming up), so it looks again every ``every`` seconds."""
    try:
        async with asyncio.timeout(within):
            while True:
                result = check()
                if await result if inspect.isawaitable(result) else result:
                    return
                await asyncio.sleep(every)
    except TimeoutError:
        raise AssertionError(f"timed out after {within}s waiting for {what}") from None
