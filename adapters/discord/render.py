"""Core views → Discord messages: an embed plus buttons in action rows, or plain text."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import discord
import structlog

from bot.adapter import Capabilities
from bot.notices import Route, plan
from bot.views import Button, Card, ResultBar, View, clip, meter, render_text

log = structlog.get_logger("townhall.discord")

# Discord's limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits
# and the component reference).
MAX_CONTENT = 2000
MAX_TITLE = 256
MAX_DESCRIPTION = 4096
MAX_FIELDS = 25
MAX_FIELD_NAME = 256
MAX_FIELD_VALUE = 1024
MAX_FOOTER = 2048
MAX_EMBED_TOTAL = 6000
MAX_EMBEDS = 10
MAX_LABEL = 80
PER_ROW = 5
MAX_ROWS = 5
MODAL_TITLE = 45
LABEL_TEXT = 45
LABEL_DESCRIPTION = 100

OPEN_COLOUR = discord.Colour.blurple()
CLOSED_COLOUR = discord.Colour.dark_grey()
STYLES = {"primary": discord.ButtonStyle.primary, "danger": discord.ButtonStyle.danger}

#: Every button the core renders has ``custom_id == f"{action_id}:{value}"`` (at most 64 bytes,
#: see ``bot.views.MAX_ACTION_BYTES``). The action is the text before the first colon; the value
#: is the rest and may hold more colons (``mod:approve:12``, ``report:m:<channel>:<message>``).
#: A reply to a member's message: in place, except what only they may see (no cards kept out).
REPLIES = Capabilities(modals=True)
CUSTOM_ID_TEMPLATE = r"(?P<action>[a-z][a-z_]*):(?P<value>[A-Za-z0-9:_-]{1,62})"


@runtime_checkable
class ClickSink(Protocol):
    """What the client offers buttons: somewhere to hand a click."""

    async def on_click(
        self, interaction: discord.Interaction[Any], action_id: str, value: str
    ) -> None: ...


class ActionButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=CUSTOM_ID_TEMPLATE
):
    """A core button. Registered once per client with ``add_dynamic_items``, so a click on any
    message we ever sent is routed by its custom id alone: no per-message state, and old
    buttons keep working after a restart."""

    def __init__(
        self,
        action_id: str,
        value: str,
        *,
        label: str = "",
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
        row: int | None = None,
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label=clip(label, MAX_LABEL) or None,
                custom_id=f"{action_id}:{value}",
                style=style,
                row=row,
            )
        )
        self.action_id = action_id
        self.value = value

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ActionButton:
        label = getattr(item, "label", None) or ""
        return cls(match["action"], match["value"], label=label)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        client = interaction.client
        if isinstance(client, ClickSink):
            await client.on_click(interaction, self.action_id, self.value)


def button_item(button: Button, row: int) -> ActionButton:
    return ActionButton(
        button.action_id,
        button.value,
        label=button.label,
        style=STYLES.get(button.style, discord.ButtonStyle.secondary),
        row=row,
    )


def card_view(card: Card) -> discord.ui.View | None:
    """Buttons in action rows of five; a persistent view (no timeout)."""
    if not card.buttons:
        return None
    buttons = list(card.buttons)
    if len(buttons) > PER_ROW * MAX_ROWS:
        log.warning("card has more buttons than Discord shows", buttons=len(buttons))
        buttons = buttons[: PER_ROW * MAX_ROWS]
    view = discord.ui.View(timeout=None)
    for index, button in enumerate(buttons):
        view.add_item(button_item(button, index // PER_ROW))
    return view


def bar_lines(bars: Sequence[ResultBar]) -> list[str]:
    lines = []
    for bar in bars:
        label = discord.utils.escape_markdown(bar.label)
        lines.append(f"`{meter(bar.percent)}` {bar.percent:.0f}%  {label} ({bar.votes})")
    return lines


def _chunks(lines: Sequence[str], limit: int) -> list[str]:
    chunks: list[str] = []
    current = ""
    for line in lines:
        line = clip(line, limit)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            candidate = line
        current = candidate
    if current:
        chunks.append(current)
    return chunks


def card_embed(card: Card) -> discord.Embed:
    """Title, description, fields, result bars as text in a field, footer."""
    title = card.title
    description = card.body
    if len(title) > MAX_TITLE:  # questions may be longer than an embed title
        description = f"{title}\n\n{description}".strip()
        title = clip(title, MAX_TITLE)
    embed = discord.Embed(
        title=title,
        description=clip(description, MAX_DESCRIPTION) or None,
        colour=OPEN_COLOUR if card.buttons else CLOSED_COLOUR,
    )
    fields = [(name, value, True) for name, value in card.fields]
    for index, chunk in enumerate(_chunks(bar_lines(card.bars), MAX_FIELD_VALUE)):
        fields.append(("Results" if index == 0 else "\u200b", chunk, False))
    for name, value, inline in fields[:MAX_FIELDS]:
        embed.add_field(
            name=clip(name, MAX_FIELD_NAME) or "\u200b",
            value=clip(value, MAX_FIELD_VALUE) or "\u200b",
            inline=inline,
        )
    if card.footer:
        embed.set_footer(text=clip(card.footer, MAX_FOOTER))
    overflow = len(embed) - MAX_EMBED_TOTAL
    if overflow > 0 and embed.description:
        embed.description = clip(embed.description, max(1, len(embed.description) - overflow))
    return embed


@dataclass
class MessageParts:
    """Keyword arguments for ``send`` / ``edit``: always all three, so an edit replaces all."""

    content: str | None = None
    embeds: list[discord.Embed] = field(default_factory=list)
    view: discord.ui.View | None = None
    #: Only its recipient may see it (where there is no ephemeral reply: a direct message).
    confidential: bool = False


def message_parts(view: View) -> MessageParts:
    """A published view: a card is an embed with buttons; anything else is text."""
    if isinstance(view, Card):
        return MessageParts(embeds=[card_embed(view)], view=card_view(view))
    return MessageParts(content=clip(render_text(view), MAX_CONTENT))


def notice_messages(notices: Sequence[View]) -> list[MessageParts]:
    """Private answers as messages, in the runs the core's notice planner routes alike (a
    confidential run goes where only its recipient sees it): texts as content and cards as
    embeds share a message; a card with buttons (consent, confirmations) gets its own message
    with its buttons, so each set of buttons stays next to its card."""
    messages: list[MessageParts] = []
    for run in plan(notices, REPLIES):
        messages.extend(_run_messages(run.views, secret=run.route is Route.PRIVATE))
    return messages


def _run_messages(views: Sequence[View], *, secret: bool) -> list[MessageParts]:
    messages: list[MessageParts] = []
    texts: list[str] = []
    embeds: list[discord.Embed] = []

    def flush() -> None:
        if texts or embeds:
            content = clip("\n\n".join(texts), MAX_CONTENT) if texts else None
            messages.append(MessageParts(content, list(embeds), confidential=secret))
        texts.clear()
        embeds.clear()

    for notice in views:
        if isinstance(notice, Card) and notice.buttons:
            flush()
            messages.append(MessageParts(None, [card_embed(notice)], card_view(notice), secret))
        elif isinstance(notice, Card):
            if len(embeds) == MAX_EMBEDS:
                flush()
            embeds.append(card_embed(notice))
        else:
            texts.append(render_text(notice))
    flush()
    return messages


class AnswerModal(discord.ui.Modal):
    """The Answer form of an open question. Its custom id is the Answer button's; the submission
    is handled statelessly from the raw interaction (see ``translate.modal_answer``)."""

    def __init__(self, short_id: str, question: str, *, max_length: int = 4000) -> None:
        question = " ".join(question.split())
        super().__init__(
            title=clip(question or "Your answer", MODAL_TITLE),
            custom_id=f"answer:{short_id}",
            timeout=None,
        )
        self.answer: discord.ui.TextInput[AnswerModal] = discord.ui.TextInput(
            custom_id="answer",
            style=discord.TextStyle.paragraph,
            max_length=max_length,
            required=True,
        )
        described = question if len(question) > MODAL_TITLE else None
        self.add_item(
            discord.ui.Label(
                text="Your answer",
                description=clip(described, LABEL_DESCRIPTION) if described else None,
                component=self.answer,
            )
        )


def question_of(message: discord.Message | None) -> str:
    """The question shown on a card (its embed title, or the description when it was cut)."""
    if message is None or not message.embeds:
        return ""
    embed = message.embeds[0]
    title = embed.title or ""
    if title.endswith("…") and embed.description:
        return embed.description.split("\n\n", 1)[0]
    return title
