"""What the core tells the web chat about one item for one visitor (no database types here)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from bot.inputs import INT_MAX, parse_int
from bot.views import Card


@dataclass(frozen=True, slots=True)
class ChatPage:
    """An item as the web chat shows it to one visitor."""

    item_id: str
    kind: str  # poll | multi | scale | ask
    is_open: bool
    #: The same card every platform shows: question, hint, buttons, result bars, footer.
    card: Card
    #: Option positions this visitor has chosen (pre-selected in the form).
    chosen: frozenset[int] = frozenset()
    #: Answers this visitor has given to this question.
    my_answers: int = 0
    #: The visitor has agreed to the privacy notice (or had it with a first answer).
    consented: bool = False
    #: When it closes (None: no deadline).
    closes_at: datetime | None = None
    #: People who voted (polls, scales) or answers on show (questions).
    taken_part: int = 0
    #: Votes are counted now and shown only once it closes.
    results_later: bool = False

    @property
    def options(self) -> list[tuple[int, str]]:
        """(position, label) of each option, from the card's vote buttons."""
        out = []
        for button in self.card.buttons:
            if button.action_id == "vote":
                _, _, position = button.value.rpartition(":")
                number = parse_int(position, high=INT_MAX)
                if number is not None:
                    out.append((number, button.label))
        return out


#: (item id, visitor id) -> the page, or None when there is no such item.
PageLoader = Callable[[str, str], Awaitable[ChatPage | None]]
