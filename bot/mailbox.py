"""Private messages for web chat visitors kept in the database, for several workers without
Redis (``TOWNHALL_SHARED_STATE``; the in-memory and Redis ones are in adapters/web/mailbox.py).

Same as Redis: the visitor's key is a digest of their id, the view is stored as JSON, at most
``max_each`` wait per visitor (the oldest go first), for at most ``keep`` seconds. Collecting
takes and deletes in one statement, so a message is shown by one worker, once.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot.views import View, view_from_dict, view_to_dict
from storage.db import Database
from storage.shared import WebMailbox

MAX_EACH = 10
KEEP = 7 * 86400
#: How often one process deletes messages older than ``keep`` (seconds).
PRUNE_EVERY = 600.0


def utc_now() -> datetime:
    return datetime.now(UTC)


class DatabaseMailbox:
    """Implements ``adapters.web.mailbox.Inbox`` on the database."""

    def __init__(
        self,
        db: Database,
        *,
        max_each: int = MAX_EACH,
        keep: int = KEEP,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.db = db
        self.max_each = max_each
        self.keep = timedelta(seconds=keep)
        self.clock = clock
        self._pruned = 0.0

    @staticmethod
    def _key(visitor_id: str) -> str:
        return hashlib.sha256(visitor_id.encode()).hexdigest()[:32]  # as RedisMailbox's keys

    async def post(self, visitor_id: str, view: View) -> None:
        stored = json.dumps(view_to_dict(view))
        async with self.db.transaction() as session:
            await WebMailbox(session).post(
                self._key(visitor_id), stored, self.clock(), self.max_each
            )
        if time.monotonic() - self._pruned >= PRUNE_EVERY:
            self._pruned = time.monotonic()
            async with self.db.statement() as session:
                await WebMailbox(session).prune(self.clock() - self.keep)

    async def collect(self, visitor_id: str) -> list[View]:
        async with self.db.statement() as session:
            stored = await WebMailbox(session).take(self._key(visitor_id), self.clock() - self.keep)
        return [view_from_dict(json.loads(item)) for item in stored]
