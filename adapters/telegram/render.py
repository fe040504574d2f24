"""Core views -> Telegram message payloads (HTML parse mode, inline keyboards)."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode

from bot.views import Button, Card, Notice, Prompt, ResultBar, View, clip, meter, render_text

#: Telegram's limits: message text (4096 UTF-16 units after entity parsing; we keep a margin
#: for characters outside the BMP) and callback answer text.
MAX_MESSAGE = 4000
MAX_CALLBACK_TEXT = 200
#: Room kept for the title, fields, bars and footer around a card's body.
MAX_BODY = 3000
#: Questions may contain links; a preview card under a poll only gets in the way.
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


@dataclass(frozen=True, slots=True)
class Payload:
    """What sendMessage / editMessageText need for one view."""

    text: str
    parse_mode: str | None = None
    keyboard: InlineKeyboardMarkup | None = None


def payloads(view: View) -> list[Payload]:
    """The messages for a view sent to a person: one, unless its text is longer than a
    Telegram message can hold. Then the text continues in further messages rather than being
    cut (a copy of someone's data must arrive whole); fields come with the first part, bars,
    footer and buttons with the last. :func:`payload` (one message) is for the outbox's
    cards, whose texts are short."""
    if isinstance(view, Notice) and len(view.text) > MAX_MESSAGE:
        return [Payload(part) for part in split_text(view.text, MAX_MESSAGE)]
    if not isinstance(view, Card) or len(view.body) <= MAX_BODY:
        return [payload(view)]
    parts = split_text(view.body, MAX_BODY)
    last = len(parts) - 1
    return [
        payload(
            replace(
                view,
                title=view.title if n == 0 else f"{clip(view.title, 380)} (continued)",
                body=part,
                fields=view.fields if n == 0 else (),
                bars=view.bars if n == last else (),
                buttons=view.buttons if n == last else (),
                footer=view.footer if n == last else "",
            )
        )
        for n, part in enumerate(parts)
    ]


def split_text(text: str, limit: int) -> list[str]:
    """Cut ``text`` into pieces of at most ``limit`` characters, at a line break or a space
    where there is one in the second half of the piece."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = max(text.rfind("\n", limit // 2, limit), text.rfind(" ", limit // 2, limit))
        cut = cut + 1 if cut > 0 else limit
        pieces.append(text[:cut])
        text = text[cut:]
    return [*pieces, text] if text else pieces


def payload(view: View, *, start_links: str | None = None) -> Payload:
    """``start_links``: the bot's username, in a group: a consultation's Start opens the private
    chat through the deep link ``t.me/<bot>?start=SLUG`` (which arrives as ``/start SLUG``)."""
    if isinstance(view, Card):
        return Payload(card_html(view), ParseMode.HTML, keyboard(view.buttons, start_links))
    if isinstance(view, Notice):
        return Payload(clip(view.text, MAX_MESSAGE) or "…")
    assert isinstance(view, Prompt)
    return Payload(clip(render_text(view), MAX_MESSAGE) or "…")


def card_html(card: Card) -> str:
    """A card as Telegram HTML: bold title, body, fields, unicode result bars, italic footer.

    Everything from the core is escaped: questions and options are written by people.
    """
    parts = [f"<b>{_e(clip(card.title, 400))}</b>"]
    if card.body:
        parts.append(_e(clip(card.body, MAX_BODY)))
    if card.fields:
        parts.append("\n".join(f"<b>{_e(n)}:</b> {_e(clip(v, 200))}" for n, v in card.fields))
    if card.bars:
        parts.append("\n".join(bar_line(bar) for bar in card.bars))
    if card.footer:
        parts.append(f"<i>{_e(clip(card.footer, 300))}</i>")
    return "\n\n".join(parts)


def bar_line(bar: ResultBar) -> str:
    return f"{meter(bar.percent)} {bar.percent:.0f}% · {_e(bar.label)} ({bar.votes})"


def keyboard(
    buttons: Sequence[Button], start_links: str | None = None
) -> InlineKeyboardMarkup | None:
    """One button per row (long option labels stay readable on phones).

    Every button, including the Answer button that opens a form elsewhere, is a callback
    button: Telegram has no modals, so the click goes to the core, which explains what to do.
    The one exception is a consultation's Start in a group (``start_links``): a deep link into
    the private chat, where the questions are asked.
    """
    rows = [[_button(b, start_links)] for b in buttons]
    return InlineKeyboardMarkup(rows) if rows else None


def _button(button: Button, start_links: str | None) -> InlineKeyboardButton:
    if start_links and button.action_id == START_ACTION and _DEEP_LINK.match(button.value):
        return InlineKeyboardButton(
            button.label, url=f"https://t.me/{start_links}?start={button.value}"
        )
    return InlineKeyboardButton(button.label, callback_data=button.custom_id)


#: A consultation's Start button (``consult:SLUG``), and what a deep link's payload may be
#: (Telegram: up to 64 of A-Z, a-z, 0-9, _ and -; all digits is an id, not a slug).
START_ACTION = "consult"
_DEEP_LINK = re.compile(r"^(?![0-9]+$)[A-Za-z0-9_-]{1,64}$")


def callback_text(notices: Sequence[View]) -> str | None:
    """The short confirmation shown for a button click (at most 200 characters)."""
    text = " ".join(_plain(n) for n in notices).strip()
    return clip(text, MAX_CALLBACK_TEXT) or None


def _plain(view: View) -> str:
    return view.text if isinstance(view, Notice) else render_text(view)


def _e(text: str) -> str:
    return html.escape(text, quote=False)
