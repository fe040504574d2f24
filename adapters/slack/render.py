"""Core views -> Slack Block Kit payloads: messages, ephemerals and modals. No I/O."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from adapters.slack.translate import (
    ANSWER_BLOCK,
    ANSWER_INPUT,
    CAPABILITIES,
    FORM_PREFIX,
    form_metadata,
)
from bot.messages import THANK_YOU, say
from bot.notices import opens_form
from bot.views import Button, Card, Prompt, ResultBar, View, clip, meter, render_text

Block = dict[str, Any]

TITLE_BLOCK = "th_title"
ACTIONS_BLOCK = "th_actions"
RESULTS_BLOCK = "th_results"

# Block Kit limits (https://docs.slack.dev/reference/block-kit/blocks)
SECTION_TEXT = 3000
FIELD_TEXT = 2000
FIELDS_PER_SECTION = 10
BUTTON_TEXT = 75
BUTTONS_PER_ACTIONS = 25
CONTEXT_TEXT = 2000
FALLBACK_TEXT = 3000
MODAL_TITLE = 24
INPUT_LABEL = 2000
INPUT_MAX = 3000  # plain_text_input max_length

_STYLES = {"primary": "primary", "danger": "danger"}
_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}…$")


def escape(text: str) -> str:
    """Slack's three control characters in mrkdwn (and in a message's ``text``)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def clip_escaped(text: str, limit: int) -> str:
    """Clip escaped text without leaving half an entity (``&am…``) behind."""
    clipped = clip(text, limit)
    return clipped if clipped is text else _PARTIAL_ENTITY.sub("…", clipped)


def pieces(text: str, limit: int = SECTION_TEXT) -> list[str]:
    """Escaped text in pieces that each fit a section: cut at a line end where there is one,
    never inside an entity. A private card is shown whole rather than clipped."""
    out: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit + 1)
        if cut <= 0:
            cut = limit
            amp = text.rfind("&", max(0, cut - 4), cut)
            if amp > 0 and ";" not in text[amp:cut]:
                cut = amp
        out.append(text[:cut])
        text = text[cut:].removeprefix("\n")
    out.append(text)
    return out


def mrkdwn(text: str, limit: int = SECTION_TEXT) -> dict[str, str]:
    return {"type": "mrkdwn", "text": clip_escaped(text, limit)}


def plain(text: str, limit: int = SECTION_TEXT) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(text, limit), "emoji": True}


def bar_line(bar: ResultBar) -> str:
    return f"`{meter(bar.percent)}` {bar.percent:5.1f}%  {escape(bar.label)} ({bar.votes})"


def button(b: Button) -> Block:
    """action_id = the custom id (unique per message); a form button gets the form prefix."""
    element: Block = {
        "type": "button",
        "action_id": f"{FORM_PREFIX}{b.custom_id}"
        if opens_form(b.action_id, CAPABILITIES)
        else b.custom_id,
        "value": b.custom_id,
        "text": plain(b.label, BUTTON_TEXT),
    }
    if b.style in _STYLES:
        element["style"] = _STYLES[b.style]
    return element


def card_blocks(card: Card, prefix: str = "th") -> list[Block]:
    """A card as blocks: question, body, fields, result bars, buttons, footer."""
    ids = {"title": TITLE_BLOCK, "actions": ACTIONS_BLOCK, "results": RESULTS_BLOCK}
    if prefix != "th":
        ids = {k: v.replace("th_", f"{prefix}_", 1) for k, v in ids.items()}
    blocks: list[Block] = [
        {"type": "section", "block_id": ids["title"], "text": mrkdwn(f"*{escape(card.title)}*")}
    ]
    if card.body and card.confidential:  # a person's own data, or an answer under review
        blocks.extend({"type": "section", "text": mrkdwn(p)} for p in pieces(escape(card.body)))
    elif card.body:
        blocks.append({"type": "section", "text": mrkdwn(escape(card.body))})
    for start in range(0, len(card.fields), FIELDS_PER_SECTION):
        pairs = card.fields[start : start + FIELDS_PER_SECTION]
        fields = [mrkdwn(f"*{escape(n)}*\n{escape(v)}", FIELD_TEXT) for n, v in pairs]
        blocks.append({"type": "section", "fields": fields})
    if card.bars:
        lines = "\n".join(bar_line(bar) for bar in card.bars)
        blocks.append({"type": "section", "block_id": ids["results"], "text": mrkdwn(lines)})
    for n, start in enumerate(range(0, len(card.buttons), BUTTONS_PER_ACTIONS)):
        chunk = card.buttons[start : start + BUTTONS_PER_ACTIONS]
        block_id = ids["actions"] if n == 0 else f"{ids['actions']}_{n}"
        blocks.append(
            {"type": "actions", "block_id": block_id, "elements": [button(b) for b in chunk]}
        )
    if card.footer:
        blocks.append({"type": "context", "elements": [mrkdwn(escape(card.footer), CONTEXT_TEXT)]})
    return blocks


def view_blocks(view: View, prefix: str = "th") -> list[Block]:
    if isinstance(view, Card):
        return card_blocks(view, prefix)
    if isinstance(view, Prompt):
        return [
            {"type": "section", "text": mrkdwn(f"*{escape(view.title)}*\n{escape(view.label)}")}
        ]
    return [{"type": "section", "text": plain(view.text)}]


def fallback_text(views: Sequence[View]) -> str:
    """The message's ``text``: shown in notifications and where blocks cannot be."""
    return clip_escaped(escape("\n".join(render_text(v) for v in views)), FALLBACK_TEXT)


def message(view: View) -> dict[str, Any]:
    """``chat.postMessage`` / ``chat.update`` arguments for a view."""
    return {"text": fallback_text([view]), "blocks": view_blocks(view)}


def _has_buttons(view: View) -> bool:
    return isinstance(view, Card) and bool(view.buttons)


def private_messages(notices: Sequence[View]) -> list[dict[str, Any]]:
    """Notices as ephemeral messages: each card with buttons gets a message of its own (a
    click replaces only that card, e.g. one answer in the moderation queue); other notices
    join the message before them."""
    groups: list[list[View]] = []
    for notice in notices:
        if groups and not (_has_buttons(notice) and any(map(_has_buttons, groups[-1]))):
            groups[-1].append(notice)
        else:
            groups.append([notice])
    return [ephemeral(group) for group in groups]


def ephemeral(notices: Sequence[View]) -> dict[str, Any]:
    """One private message carrying every notice (slash-command ack, response_url, ...)."""
    blocks: list[Block] = []
    for n, notice in enumerate(notices):
        blocks.extend(view_blocks(notice, prefix=f"n{n}"))
    return {"text": fallback_text(notices), "blocks": blocks[:50]}


def question_of(slack_message: dict[str, Any] | None) -> str:
    """The item's question, read back from the card the person clicked."""
    for block in (slack_message or {}).get("blocks") or []:
        if block.get("block_id") == TITLE_BLOCK:
            text = str((block.get("text") or {}).get("text") or "")
            return unescape(text.strip().removeprefix("*").removesuffix("*"))
    return ""


def answer_modal(
    custom_id: str, question: str, channel_id: str, message_ts: str | None
) -> dict[str, Any]:
    """The free-text form behind an Answer button; its callback id carries the item."""
    return {
        "type": "modal",
        "callback_id": f"{FORM_PREFIX}{custom_id}",
        "private_metadata": form_metadata(channel_id, message_ts),
        "title": plain("Your answer", MODAL_TITLE),
        "submit": plain("Send", MODAL_TITLE),
        "close": plain("Cancel", MODAL_TITLE),
        "blocks": [
            {
                "type": "input",
                "block_id": ANSWER_BLOCK,
                "label": plain(question or "Your answer", INPUT_LABEL),
                "element": {
                    "type": "plain_text_input",
                    "action_id": ANSWER_INPUT,
                    "multiline": True,
                    "max_length": INPUT_MAX,
                },
            }
        ],
    }


def notice_modal(notices: Sequence[View]) -> dict[str, Any]:
    """What a submitted form turns into: the core's answer, and a Close button."""
    blocks: list[Block] = []
    for n, notice in enumerate(notices):
        blocks.extend(view_blocks(notice, prefix=f"n{n}"))
    return {
        "type": "modal",
        "title": plain("Townhall", MODAL_TITLE),
        "close": plain("Close", MODAL_TITLE),
        "blocks": blocks or [{"type": "section", "text": plain(say(THANK_YOU))}],
    }
