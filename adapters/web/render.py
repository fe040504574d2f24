"""Core views to what the web chat's templates show (plain data; the templates escape it)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.views import Card, Notice, Prompt, View

_ITEM_IN_FOOTER = re.compile(r"\b(?:Poll|Scale|Question) ([0-9a-z]{4,12})\b")


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    votes: int
    percent: float

    @property
    def width(self) -> str:
        """The bar's length for an SVG ``width`` attribute (no inline styles under our CSP)."""
        return f"{max(0.0, min(100.0, self.percent)):.1f}%"


@dataclass(frozen=True, slots=True)
class FormButton:
    label: str
    custom_id: str
    style: str  # default | primary | danger


@dataclass(frozen=True, slots=True)
class Message:
    """A view the visitor is shown once: a line of text, or a card with buttons as forms."""

    title: str = ""
    paragraphs: tuple[str, ...] = ()
    preformatted: str = ""
    fields: tuple[tuple[str, str], ...] = ()
    buttons: tuple[FormButton, ...] = ()
    footer: str = ""
    bars: tuple[Bar, ...] = field(default=())

    @property
    def rows(self) -> list[dict[str, dict[str, str]]]:
        """``fields`` as GOV.UK summary list rows."""
        return [{"key": {"text": k}, "value": {"text": v}} for k, v in self.fields]


def paragraphs(text: str) -> tuple[str, ...]:
    """Blank-line separated paragraphs; single line breaks kept inside a paragraph."""
    return tuple(p.strip() for p in re.split(r"\n\s*\n", text) if p.strip())


def bars(card: Card) -> tuple[Bar, ...]:
    return tuple(Bar(b.label, b.votes, b.percent) for b in card.bars)


def message(view: View) -> Message:
    """A notice or card from the core, for the notification area of the page."""
    if isinstance(view, Notice):
        return Message(paragraphs=paragraphs(view.text))
    if isinstance(view, Prompt):
        return Message(title=view.title, paragraphs=paragraphs(view.label))
    body = view.body.strip()
    structured = body.startswith(("{", "["))  # e.g. the copy of what we hold about you
    return Message(
        title=view.title,
        paragraphs=() if structured else paragraphs(body),
        preformatted=body if structured else "",
        fields=view.fields,
        # Vote and answer buttons belong to the item form, not to a message.
        buttons=tuple(
            FormButton(b.label, b.custom_id, b.style)
            for b in view.buttons
            if b.action_id not in ("vote", "answer")
        ),
        footer=view.footer,
        bars=bars(view),
    )


def item_of(view: View) -> str | None:
    """The item a card shows (for send()): from its buttons, else from its footer."""
    if not isinstance(view, Card):
        return None
    for button in view.buttons:
        if button.action_id in ("vote", "answer"):
            return button.value.split(":", 1)[0]
    found = _ITEM_IN_FOOTER.search(view.footer)
    return found.group(1) if found else None
