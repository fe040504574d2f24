"""Private messages for web chat visitors, shown on their next page.

An anonymous visitor has no inbox: when the core sends one a private message (a moderator hid
their answer), it waits here, in this process's memory, until the visitor opens any web chat
page. Bounded, and lost on restart or on another worker: the web chat has no better channel.
"""

from __future__ import annotations

from collections import OrderedDict

from bot.views import View

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
