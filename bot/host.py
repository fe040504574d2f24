"""What a web extension (the dashboard, the web chat) may use of the running application.

The application itself (``townhall.app.Townhall``) lives on the top floor; code below it names
it through this protocol so that no import runs upward.
"""

from __future__ import annotations

from typing import Protocol

from bot.adapter import Outcome
from bot.config import Settings
from bot.context import Clock
from bot.events import Event
from storage.db import Database


class Host(Protocol):
    """The running application as seen from a web extension."""

    @property
    def settings(self) -> Settings: ...

    @property
    def db(self) -> Database: ...

    @property
    def clock(self) -> Clock: ...

    def wake_outbox(self) -> None:
        """Deliver waiting outbox rows now rather than at the next poll."""
        ...

    async def dispatch(self, event: Event) -> Outcome:
        """Dispatch one event as if it came from a platform; returns once committed."""
        ...
