"""Free-text answers to open questions: by replying, in a thread, or through a form."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.context import Context
from bot.errors import UserError
from bot.events import EventKind
from bot.i18n import N_
from bot.inputs import is_blank
from bot.outcomes import AnswerStored
from bot.router import Router
from bot.views import Notice
from handlers import consent, consultation_flow, statements
from handlers.polls import apply_pending_vote, open_item
from services import lifecycle, screening
from services.consultations import WITH_TEXT
from storage.models import Item, Participant

router = Router("questions")

MAX_ANSWER = 4000
FLOOD_WINDOW = screening.FLOOD_WINDOW
REPEAT_WINDOW = screening.REPEAT_WINDOW


async def spam_reasons(ctx: Context, participant: Participant, text: str) -> list[str]:
    """Repeats of this person's own earlier answers, and floods of answers from one person."""
    now = ctx.clock()
    recent = await ctx.moderation.recent_texts(participant.id, now - REPEAT_WINDOW)
    reasons = []
    key = screening.normalise(text)
    if key and any(screening.normalise(t) == key for t, _ in recent):
        reasons.append("spam:repeat")
    if sum(1 for _, at in recent if at >= now - FLOOD_WINDOW) >= ctx.settings.flood_limit:
        reasons.append("spam:flood")
    return reasons


def check_length(ctx: Context, text: str) -> str:
    text = text.strip()
    if is_blank(text):
        raise UserError(ctx.t("Your answer is empty."))
    if len(text) > MAX_ANSWER:
        raise UserError(
            ctx.t(
                "Your answer is {n} characters; please keep it to {max}.",
                n=len(text),
                max=MAX_ANSWER,
            )
        )
    return text


async def store_answer(
    ctx: Context,
    item: Item,
    text: str,
    *,
    channel_id: str | None = None,
    message_id: str | None = None,
) -> None:
    """Screen and store one answer, or keep it pending until its author consents."""
    text = check_length(ctx, text)
    if item.kind == "statements":  # a citizen's statement: short, as in Polis
        text = statements.clean_statement(ctx, text)
    where: dict[str, Any] = {
        "channel_id": channel_id if channel_id is not None else ctx.event.target.channel_id,
        "message_id": message_id if message_id is not None else ctx.event.target.message_id,
    }
    participant, consented = await consent.consented(ctx)
    if consent.must_wait(ctx, consented):
        payload = {"kind": "answer", "item": item.short_id, "text": text, **where}
        await consent.hold_for_consent(ctx, "answer", payload)
        return
    participant = participant or await ctx.participant()
    if not consented:  # notice mode: the first answer comes with the privacy notice
        participant.consented_at = ctx.clock()
    await _save(ctx, item, participant, text, where, first=not consented)


async def _save(
    ctx: Context,
    item: Item,
    participant: Participant,
    text: str,
    where: dict[str, Any],
    *,
    first: bool,
) -> None:
    now = ctx.clock()
    verdict = await asyncio.to_thread(screening.screen_text, text)  # ~3 ms of model time
    reasons = [*verdict.reasons, *await spam_reasons(ctx, participant, text)]
    held = bool(reasons) and item.moderation == "strict"
    if item.kind == "statements" and item.moderation == "strict":
        held = True  # strict: every new statement waits for a moderator before others see it
    answer = await ctx.answers.add(
        item,
        participant,
        text,
        now,
        status="held" if held else "visible",
        channel_id=where.get("channel_id"),
        message_id=where.get("message_id"),
        language=ctx.language,
    )
    answer.flags = reasons
    answer.needs_review = bool(reasons) or held
    if item.kind == "statements":
        await statements.add_submitted(ctx, item, answer.id, text)
    if not held:
        await lifecycle.request_refresh(
            ctx.session, item, lifecycle.refresh_due(now, ctx.settings.refresh_interval)
        )
    if item.kind == "statements":
        message = (
            N_("Thanks. Your statement (ref A{ref}) will be shown once a moderator has checked it.")
            if held
            else N_("Thanks, your statement is added (ref A{ref}); others will be asked about it.")
        )
    elif held:
        message = N_(
            "Thanks. Your answer (ref A{ref}) will appear once a moderator has checked it."
        )
    else:
        message = N_("Thanks, your answer is recorded (ref A{ref}).")
    ctx.produced(AnswerStored(answer.id, held))
    text_out = ctx.t(message, ref=answer.id)
    if first:
        text_out += " " + consent.privacy_text(ctx)
    ctx.notify(Notice(text_out, success=True))
    await consultation_flow.after_response(ctx, item, voted=False)


async def apply_pending(ctx: Context, participant: Participant, payload: dict[str, Any]) -> None:
    """Store a vote or an answer that waited for consent (called once the person agrees)."""
    if payload.get("kind") == "vote":
        await apply_pending_vote(ctx, participant, payload)
        return
    if payload.get("kind") == "opinion":
        await statements.apply_pending_opinion(ctx, participant, payload)
        return
    if payload.get("kind") != "answer":
        return
    item = await ctx.items.by_short_id(str(payload["item"]))
    if item is None or item.status != "open":
        ctx.notify(
            ctx.t(
                "Question {id} has closed meanwhile; your answer was not recorded.",
                id=payload["item"],
            )
        )
        return
    await _save(ctx, item, participant, str(payload["text"]), payload, first=False)


@router.submit("answer")
async def answer_form(ctx: Context) -> None:
    """An answer from a form (a modal, the web chat, or the console's ``answer`` command)."""
    item = await open_item(ctx, ctx.event.action_value)
    if not takes_text(item):
        raise UserError(ctx.t("This one is answered with the buttons."))
    await store_answer(ctx, item, ctx.event.text)


@router.action("answer")
async def answer_button(ctx: Context) -> None:
    """The Answer button on a platform with no forms: explain how to answer instead."""
    item = await open_item(ctx, ctx.event.action_value)
    if await consultation_flow.wait_for_text(ctx, item):
        return
    ctx.notify(ctx.t("To answer “{q}”, reply to the question's message.", q=item.question[:80]))


@router.reply()
async def answer_reply(ctx: Context) -> None:
    """Text written in reply to, or in the thread of, one of our messages."""
    event = ctx.event
    if event.kind is not EventKind.REPLY or event.reply_to is None:
        return
    pub = await ctx.publications.find_by_message(
        event.platform, event.target.channel_id, event.reply_to
    )
    if pub is None:
        return  # a reply to something else of ours: not an answer
    item = await ctx.items.get(pub.item_id)
    if item is None:  # pragma: no cover - foreign key
        return
    if item.status != "open":
        raise UserError(ctx.t("Sorry, this has closed. Thank you for taking part."))
    if not takes_text(item):
        ctx.notify(ctx.t("Please use the buttons to vote on “{q}”.", q=item.question[:80]))
        return
    await store_answer(ctx, item, event.text)


def takes_text(item: Item) -> bool:
    """Open questions, and a rating's why or a clause's comment."""
    return not item.is_choice or item.kind in WITH_TEXT
