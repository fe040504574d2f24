"""Free-text answers to open questions: by replying, in a thread, or through a form."""

from __future__ import annotations

from bot.context import Context
from bot.errors import UserError
from bot.events import EventKind
from bot.router import Router
from handlers import lifecycle
from handlers.polls import open_item
from storage.models import Item

router = Router("questions")

MAX_ANSWER = 4000


async def store_answer(ctx: Context, item: Item, text: str) -> None:
    text = text.strip()
    if not text:
        raise UserError("Your answer is empty.")
    if len(text) > MAX_ANSWER:
        raise UserError(
            ctx.t(
                "Your answer is {n} characters; please keep it to {max}.",
                n=len(text),
                max=MAX_ANSWER,
            )
        )
    participant = await ctx.participant()
    now = ctx.clock()
    await ctx.answers.add(
        item,
        participant,
        text,
        now,
        channel_id=ctx.event.target.channel_id,
        message_id=ctx.event.target.message_id,
    )
    await lifecycle.request_refresh(
        ctx.session, item, lifecycle.refresh_due(now, ctx.settings.refresh_interval)
    )
    ctx.notify(ctx.t("Thanks, your answer is recorded."))


@router.submit("answer")
async def answer_form(ctx: Context) -> None:
    """An answer from a form (a modal, the web chat, or the console's ``answer`` command)."""
    item = await open_item(ctx, ctx.event.action_value)
    if item.is_choice:
        raise UserError("This one is answered with the buttons.")
    await store_answer(ctx, item, ctx.event.text)


@router.action("answer")
async def answer_button(ctx: Context) -> None:
    """The Answer button on a platform with no forms: explain how to answer instead."""
    item = await open_item(ctx, ctx.event.action_value)
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
    item = await _item(ctx, pub.item_id)
    if item.status != "open":
        raise UserError(ctx.t("Sorry, this has closed. Thank you for taking part."))
    if item.is_choice:
        ctx.notify(ctx.t("Please use the buttons to vote on “{q}”.", q=item.question[:80]))
        return
    await store_answer(ctx, item, event.text)


async def _item(ctx: Context, item_id: int) -> Item:
    item = await ctx.session.get(Item, item_id)
    if item is None:  # pragma: no cover - foreign key
        raise UserError("That question no longer exists.")
    return item
