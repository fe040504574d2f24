"""The policy team's commands: close, results, list; and help for everyone."""

from __future__ import annotations

from bot.context import Context
from bot.errors import UserError
from bot.grammar import CommandSpec, Field, help_text
from bot.i18n import N_
from bot.router import Router, has_role
from handlers import consultations
from handlers.polls import find_item
from services import cards, lifecycle, results
from storage.models import Consultation

router = Router("admin")
policy_only = has_role("policy")

ITEM = Field("item", "The item's id, e.g. k3m9xq", required=True)
CLOSE = CommandSpec(
    "close",
    "close ID|SLUG",
    "Close an item (or every item of a consultation) now and post its results.",
    min_args=1,
    max_args=1,
    staff_only=True,
    menu="Close an item and post its results (policy team)",
    fields=(ITEM,),
    slash_help="Close an item (or a consultation) now and post its results",
)
RESULTS = CommandSpec(
    "results",
    "results ID|SLUG",
    "Show an item's (or a consultation's) results, privately.",
    min_args=1,
    max_args=1,
    staff_only=True,
    menu="See an item's results (policy team)",
    hint="results ID",
    fields=(ITEM,),
    slash_help="See an item's or a consultation's results (only you see them)",
)
LIST = CommandSpec(
    "list",
    "list [--status open|closed]",
    "List recent items.",
    options={"status": ("open", "closed")},
    max_args=0,
    staff_only=True,
    menu="List recent items (policy team)",
    fields=(Field("status", "Only open or only closed items", "option"),),
)
HELP = CommandSpec(
    "help",
    "help",
    N_("Show this help."),
    max_args=1,
    menu="What this bot can do",
    hint="help",
    slash_help="What Townhall can do",
)
START = CommandSpec(
    "start",
    "start [SLUG]",
    N_("Say hello; with a consultation's name, answer it here one question at a time."),
    max_args=1,
    menu="Say hello, or start a consultation",
    slash=False,
)


@router.command(CLOSE, filters=[policy_only])
async def close(ctx: Context) -> None:
    assert ctx.command is not None
    consultation = await _consultation_named(ctx, ctx.command.args[0])
    if consultation is not None:
        await consultations.close_consultation(ctx, consultation)
        return
    item = await find_item(ctx, ctx.command.args[0])
    if not await lifecycle.close_item(ctx.session, item, ctx.event.subject, ctx.clock()):
        raise UserError(ctx.t("Item {id} is already closed.", id=item.short_id))
    ctx.notify(ctx.t("Closed {id}; results are posted where it was published.", id=item.short_id))


@router.command(RESULTS, filters=[policy_only])
async def show_results(ctx: Context) -> None:
    assert ctx.command is not None
    consultation = await _consultation_named(ctx, ctx.command.args[0])
    if consultation is not None:
        await consultations.results_of(ctx, consultation)
        return
    item = await find_item(ctx, ctx.command.args[0])
    summary = await results.compute(ctx.session, item, answer_limit=5)
    await ctx.record("item.results", item.short_id)
    ctx.notify(cards.results_card(item, summary, show_answers=True, t=ctx.t))


@router.command(LIST, filters=[policy_only])
async def list_items(ctx: Context) -> None:
    assert ctx.command is not None
    items = await ctx.items.list(status=ctx.command.options.get("status"), limit=20)
    if not items:
        ctx.notify('No items yet. Start one with: poll "Question?" "Yes" "No"')
        return
    lines = [f"{i.short_id}  {i.kind:<5} {i.status:<6} {i.question[:60]}" for i in items]
    ctx.notify("\n".join(lines))


@router.command(HELP)
async def show_help(ctx: Context) -> None:
    from handlers import all_specs

    staff = await ctx.has_role("policy", "moderator")
    ctx.notify(help_text(all_specs(), staff=staff, t=ctx.t))


async def _consultation_named(ctx: Context, name: str) -> Consultation | None:
    """A consultation slug given where an item id may be (an item id wins)."""
    if await ctx.items.by_short_id(name) is not None:
        return None
    return await ctx.consultations.latest(name.lower()[:100])


@router.command(START)
async def start(ctx: Context) -> None:
    assert ctx.command is not None
    if ctx.command.args:  # start SLUG, and Telegram's deep link t.me/<bot>?start=SLUG
        await consultations.start_by_slug(ctx, ctx.command.args[0])
        return
    ctx.notify(
        "Hello! I'm Townhall. Policy teams use me to ask for your views: answer polls with the "
        "buttons and questions by replying. Send help to see what I can do."
    )
