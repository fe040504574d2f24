"""Dispatch within a platform's time budget: answer inline if the commit lands in time, else
let the adapter acknowledge (defer) first and follow up when the running dispatch completes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.adapter import Dispatch, Outcome
from bot.events import Event

Started = Callable[["asyncio.Task[Outcome]"], None]


async def dispatch_within(
    dispatch: Dispatch, event: Event, budget: float, *, started: Started | None = None
) -> Outcome | asyncio.Task[Outcome]:
    """The outcome if ``dispatch(event)`` finishes within ``budget`` seconds, else the task,
    still running (it commits whether or not anyone waits for it).

    ``started`` sees the task first (e.g. to keep it until shutdown). Raises when dispatch
    failed within the budget (the database unreachable: nothing was committed).
    """
    task = asyncio.ensure_future(dispatch(event))
    if started is not None:
        started(task)
    done, _ = await asyncio.wait({task}, timeout=budget)
    return task.result() if done else task
