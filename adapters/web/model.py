"""What the core tells the web chat about one item for one visitor (no database types here)."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.inputs import INT_MAX, parse_int
from bot.views import Card


@dataclass(frozen=True, slots=True)
class ConsultationStep:
    """On a consultation's page (``/c/<slug>``): where this visitor is in it."""

    slug: str
    title: str
    introduction: str = ""
    privacy: str = ""
    #: The item shown, e.g. 3 of 12 (0 once the visitor has reached the end).
    position: int = 0
    total: int = 0
    #: Items this visitor responded to (for "you answered 9 of 12").
    answered: int = 0
    #: The visitor reached the end: the page thanks them instead of asking.
    finished: bool = False
    #: The item also takes a text (a rating's why, a clause's comment) beside its choice.
    takes_text: bool = False
    #: Buttons under the item: Skip, or Next once a rating or stance is given.
    buttons: tuple[tuple[str, str], ...] = ()
    #: A clause's full text, or a regulation's summary.
    detail: str = ""
    #: "You said, we did": the policy team's responses, oldest first.
    responses: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ChatPage:
    """An item as the web chat shows it to one visitor."""

    item_id: str
    kind: str  # poll | multi | scale | ask | rating | clause
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
    #: The page's own address when it is not the item's (a consultation's ``/c/<slug>``).
    path: str = ""
    consultation: ConsultationStep | None = None
    #: The language the page is in (``cy``/``en``): the visitor's choice, else their browser's.
    language: str = "en"
    #: The language of the item's own question and poll options (the policy team's text):
    #: English on a Welsh page when the item has no Welsh, marked ``lang`` for screen readers.
    content_language: str = "en"

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


class PageLoader(Protocol):
    """(item id, visitor id, the language the browser says) -> the page, or None when there is
    no such item. ``counts=False``: the card without its counts (zeros), for reading a form
    against the page (the options, what the visitor chose) without counting the votes."""

    def __call__(
        self, item_id: str, visitor_id: str, browser_says: str, *, counts: bool = True
    ) -> Awaitable[ChatPage | None]: ...
