"""Core views to what the web chat's templates show (plain data; the templates escape it)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from adapters.web.model import ChatPage
from adapters.web.translate import CAPABILITIES
from bot.i18n import Translator, count, identity_translator, language_of
from bot.notices import opens_form
from bot.views import Card, Notice, Prompt, ResultBar, View

#: Chat commands a notice names in brackets ("(mydata)"): on the web they are buttons.
_CHAT_COMMANDS = re.compile(r"\s*\((?:mydata|forget|privacy)\)")


@dataclass(frozen=True, slots=True)
class Bar(ResultBar):
    """A result bar as the web chat draws it."""

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
    #: It confirms what the visitor did (a success banner, not an "Important" one).
    success: bool = False
    #: The text pointed at the privacy notice: the page links it instead of a bare address.
    privacy_link: bool = False

    @property
    def rows(self) -> list[dict[str, dict[str, str]]]:
        """``fields`` as GOV.UK summary list rows."""
        return [{"key": {"text": k}, "value": {"text": v}} for k, v in self.fields]


def web_text(text: str) -> str:
    """Chat wording made right for the web: no command names in brackets."""
    return _CHAT_COMMANDS.sub("", text)


def _without_link(text: str, url: str) -> tuple[str, bool]:
    """``text`` without "Privacy notice: <url>" (any label) and whether it was there."""
    if not url or url not in text:
        return text, False
    pattern = r"\s*(?:[^\s.!?:][^.!?:]{0,40}:\s*)?" + re.escape(url) + r"\.?"
    return re.sub(pattern, "", text), True


def paragraphs(text: str) -> tuple[str, ...]:
    """Blank-line separated paragraphs; single line breaks kept inside a paragraph."""
    return tuple(p.strip() for p in re.split(r"\n\s*\n", text) if p.strip())


def bars(card: Card) -> tuple[Bar, ...]:
    return tuple(Bar(b.label, b.votes, b.percent) for b in card.bars)


def message(view: View, privacy_url: str = "") -> Message:
    """A notice or card from the core, for the notification area of the page."""
    if isinstance(view, Notice):
        text, linked = _without_link(view.text, privacy_url)
        return Message(
            paragraphs=paragraphs(web_text(text)), success=view.success, privacy_link=linked
        )
    if isinstance(view, Prompt):
        return Message(title=view.title, paragraphs=paragraphs(view.label))
    body = view.body.strip()
    structured = body.startswith(("{", "["))  # e.g. the copy of what we hold about you
    text, linked = (body, False) if structured else _without_link(body, privacy_url)
    return Message(
        title=view.title,
        privacy_link=linked,
        paragraphs=() if structured else paragraphs(web_text(text)),
        preformatted=body if structured else "",
        fields=view.fields,
        # Vote buttons and form buttons (Answer) belong to the item form, not to a message.
        buttons=tuple(
            FormButton(b.label, b.custom_id, b.style)
            for b in view.buttons
            if b.action_id != "vote" and not opens_form(b.action_id, CAPABILITIES)
        ),
        footer=view.footer,
        bars=bars(view),
    )


def item_of(view: View) -> str | None:
    """The item a card shows (for send()), as the card names it."""
    return (view.item or None) if isinstance(view, Card) else None


def _uk_zone() -> ZoneInfo | None:
    try:
        return ZoneInfo("Europe/London")
    except ZoneInfoNotFoundError:  # no time zone database: say the times are UTC
        return None


UK = _uk_zone()


def _month(at: datetime, language: str) -> str:
    from babel.dates import get_month_names

    return str(get_month_names("wide", locale=language)[at.month])


def govuk_date_time(at: datetime, t: Translator = identity_translator) -> str:
    """GOV.UK style, in UK time: "6:23pm on 14 December 2026", "midday on 1 May 2027"; in
    Welsh "6:23yh ar 14 Rhagfyr 2026" (month names from Babel's CLDR data)."""
    language = language_of(t)
    local = at.astimezone(UK) if UK is not None else at.astimezone(UTC)
    zone = "" if UK is not None else " (UTC)"
    if (local.hour, local.minute) == (0, 0):  # 00:00 ends the day before: name that day
        ended = datetime.fromordinal(local.toordinal() - 1)
        day = f"{ended.day} {_month(ended, language)} {ended.year}"
        return t("midnight at the end of {date}", date=day) + zone
    if (local.hour, local.minute) == (12, 0):
        time = t("midday")
    else:
        minutes = f":{local.minute:02d}" if local.minute else ""
        clock = f"{local.hour % 12 or 12}{minutes}"
        time = t("{time}am", time=clock) if local.hour < 12 else t("{time}pm", time=clock)
    day = f"{local.day} {_month(local, language)} {local.year}"
    return t("{time} on {date}", time=time, date=day) + zone


def page_footer(page: ChatPage, t: Translator = identity_translator) -> str:
    """The line under an item: when it closes, how many took part; no internal ids."""
    parts: list[str] = []
    if page.is_open and page.closes_at is not None:
        parts.append(t("Closes at {when}", when=govuk_date_time(page.closes_at, t)))
    elif not page.is_open:
        parts.append(t("Closed"))
    if page.kind == "ask":
        parts.append(count("{n} answer", "{n} answers", page.taken_part, t))
    else:
        parts.append(
            count("{n} person has taken part", "{n} people have taken part", page.taken_part, t)
        )
    if page.is_open and page.results_later:
        parts.append(t("Results are shown when it closes"))
    return " · ".join(parts)
