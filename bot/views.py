"""Platform-neutral views that handlers return and adapters render."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Telegram's callback_data is at most 64 bytes; Discord's custom_id at most 100 characters.
MAX_ACTION_BYTES = 64
#: Characters in a text result bar (every platform draws the same meter).
BAR_WIDTH = 10


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    action_id: str  # "vote", "answer", ...
    value: str  # e.g. "k3m9xq:2"
    style: str = "default"  # default | primary | danger
    #: The button opens a free-text form (modal) where the platform has one. Kept in the JSON
    #: shape; adapters decide with ``bot.notices.opens_form`` (one rule from Capabilities).
    opens_form: bool = False

    def __post_init__(self) -> None:
        if len(f"{self.action_id}:{self.value}".encode()) > MAX_ACTION_BYTES:
            raise ValueError(f"action id too long for every platform: {self.action_id!r}")

    @property
    def custom_id(self) -> str:
        """The one string that fits Telegram callback_data, Discord custom_id and Slack."""
        return f"{self.action_id}:{self.value}"


@dataclass(frozen=True, slots=True)
class ResultBar:
    label: str
    votes: int
    percent: float


@dataclass(frozen=True, slots=True)
class Card:
    """A message with a title, body, fields, buttons and optional result bars."""

    title: str
    body: str = ""
    fields: tuple[tuple[str, str], ...] = ()
    buttons: tuple[Button, ...] = ()
    bars: tuple[ResultBar, ...] = ()
    footer: str = ""
    #: Free-text answers are accepted by replying to this message (or in its thread).
    accepts_replies: bool = False
    #: Only the recipient may see it (moderation queue, personal data): where a platform cannot
    #: show it privately in place, the adapter sends it as a direct message instead.
    confidential: bool = False
    #: The short id of the item this card shows, if any (e.g. where the web chat files it).
    item: str = ""


@dataclass(frozen=True, slots=True)
class Prompt:
    """Ask the person for free text (a modal where the platform has one)."""

    title: str
    label: str
    action_id: str
    value: str
    max_length: int = 4000


@dataclass(frozen=True, slots=True)
class Notice:
    """A short line of text, usually private to one person."""

    text: str
    confidential: bool = False
    #: Confirms that what the person did worked (the web chat shows a success banner).
    success: bool = False


View = Card | Prompt | Notice


def view_to_dict(view: View) -> dict[str, Any]:
    """Serialise a view for the outbox (JSON-safe)."""
    if isinstance(view, Notice):
        data: dict[str, Any] = {
            "type": "notice",
            "text": view.text,
            "confidential": view.confidential,
        }
        if view.success:
            data["success"] = True
        return data
    if isinstance(view, Prompt):
        return {
            "type": "prompt",
            "title": view.title,
            "label": view.label,
            "action_id": view.action_id,
            "value": view.value,
            "max_length": view.max_length,
        }
    return {
        "type": "card",
        "title": view.title,
        "body": view.body,
        "fields": [list(f) for f in view.fields],
        "buttons": [
            {
                "label": b.label,
                "action_id": b.action_id,
                "value": b.value,
                "style": b.style,
                "opens_form": b.opens_form,
            }
            for b in view.buttons
        ],
        "bars": [{"label": b.label, "votes": b.votes, "percent": b.percent} for b in view.bars],
        "footer": view.footer,
        "accepts_replies": view.accepts_replies,
        "confidential": view.confidential,
        **({"item": view.item} if view.item else {}),
    }


def view_from_dict(data: dict[str, Any]) -> View:
    kind = data.get("type")
    if kind == "notice":
        return Notice(
            text=str(data["text"]),
            confidential=bool(data.get("confidential", False)),
            success=bool(data.get("success", False)),
        )
    if kind == "prompt":
        return Prompt(
            title=data["title"],
            label=data["label"],
            action_id=data["action_id"],
            value=data["value"],
            max_length=int(data.get("max_length", 4000)),
        )
    if kind == "card":
        return Card(
            title=data["title"],
            body=data.get("body", ""),
            fields=tuple((str(a), str(b)) for a, b in data.get("fields", [])),
            buttons=tuple(Button(**b) for b in data.get("buttons", [])),
            bars=tuple(ResultBar(**b) for b in data.get("bars", [])),
            footer=data.get("footer", ""),
            accepts_replies=bool(data.get("accepts_replies", False)),
            confidential=bool(data.get("confidential", False)),
            item=str(data.get("item", "")),
        )
    raise ValueError(f"unknown view type {kind!r}")


def meter(percent: float, width: int = BAR_WIDTH) -> str:
    """A result bar in text, ``width`` characters: ``███░░░░░░░`` for 30 %."""
    filled = max(0, min(width, round(percent / 100 * width)))
    return "█" * filled + "░" * (width - filled)


def clip(text: str, limit: int) -> str:
    """Shorten to ``limit`` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def render_text(view: View, *, max_bar: int = BAR_WIDTH) -> str:
    """Plain-text rendering, used by the console adapter and as a fallback everywhere."""
    if isinstance(view, Notice):
        return view.text
    if isinstance(view, Prompt):
        return f"{view.title}\n{view.label}"
    lines = [view.title]
    if view.body:
        lines.append(view.body)
    for name, value in view.fields:
        lines.append(f"{name}: {value}")
    for bar in view.bars:
        lines.append(
            f"{meter(bar.percent, max_bar)} {bar.percent:5.1f}%  {bar.label} ({bar.votes})"
        )
    if view.footer:
        lines.append(view.footer)
    return "\n".join(lines)
