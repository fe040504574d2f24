"""Private messages for web chat visitors, shown on their next page.

An anonymous visitor has no inbox: when the core sends one a private message (a moderator hid
their answer), it waits here until the visitor opens any web chat page. :class:`Mailbox` keeps
it in this process's memory (bounded, lost on restart); with several workers set
``TOWNHALL_REDIS_URL`` and :class:`RedisMailbox` keeps it in Redis for a week, so whichever
worker serves the visitor's next page shows it.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from typing import Protocol

import redis.asyncio as aioredis

from bot.views import View, view_from_dict, view_to_dict

MAX_PEOPLE = 10_000
MAX_EACH = 10


class Mailbox:
    def __init__(self, max_people: int = MAX_PEOPLE, max_each: int = MAX_EACH) -> None:
        self._boxes: OrderedDict[str, list[View]] = OrderedDict()
        self.max_people = max_people
        self.max_each = max_each

    def put(self, visitor_id: str, view: View) -> None:
        box = self._boxes.pop(visitor_id, [])
        box = [*box, view][-self.max_each :]
        self._boxes[visitor_id] = box
        while len(self._boxes) > self.max_people:
            self._boxes.popitem(last=False)  # the oldest visitor's messages go first

    def take(self, visitor_id: str) -> list[View]:
        return self._boxes.pop(visitor_id, [])

    def __len__(self) -> int:
        return len(self._boxes)

    async def post(self, visitor_id: str, view: View) -> None:
        self.put(visitor_id, view)

    async def collect(self, visitor_id: str) -> list[View]:
        return self.take(visitor_id)


class Inbox(Protocol):
    async def post(self, visitor_id: str, view: View) -> None: ...

    async def collect(self, visitor_id: str) -> list[View]:
        """Every message waiting for the visitor, oldest first; they are gone afterwards."""
        ...


class RedisMailbox:
    """The same, in Redis: one list per visitor (its key a hash of the visitor id)."""

    def __init__(self, redis_url: str, *, max_each: int = MAX_EACH, keep: int = 7 * 86400) -> None:
        self.client = aioredis.from_url(redis_url)
        self.max_each = max_each
        self.keep = keep

    @staticmethod
    def _key(visitor_id: str) -> str:
        return "townhall:mail:" + hashlib.sha256(visitor_id.encode()).hexdigest()[:32]

    async def post(self, visitor_id: str, view: View) -> None:
        key = self._key(visitor_id)
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.rpush(key, json.dumps(view_to_dict(view)))
            pipe.ltrim(key, -self.max_each, -1)
            pipe.expire(key, self.keep)
            await pipe.execute()

    async def collect(self, visitor_id: str) -> list[View]:
        key = self._key(visitor_id)
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.lrange(key, 0, -1)
            pipe.delete(key)
            stored, _ = await pipe.execute()
        return [view_from_dict(json.loads(item)) for item in stored]

    async def close(self) -> None:
        await self.client.aclose()
