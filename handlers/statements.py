"""Statements items (issue 20): people agree, disagree or pass on short statements one at a
time, and may add their own; ``services.opinion_groups`` finds the opinion groups."""

from __future__ import annotations

from typing import Any

from bot.context import Context
from bot.errors import UserError
from bot.grammar import CommandSpec, Field
from bot.i18n import N_
from bot.inputs import is_blank
from bot.router import Router, has_role
from bot.views import Button, Card, Notice, clip
from handlers import consent, consultation_flow
from handlers.polls import clean_question, create_and_publish, open_item
from handlers.publishing import CLOSES
from services import cards
from services.limits import MAX_SEEDS, MAX_STATEMENT
from storage.models import Item, Participant
from storage.statements import AGREE, DISAGREE, PASS, Shown

router = Router("statements")
policy_only = has_role("policy")

CHOICES = {"a": AGREE, "d": DISAGREE, "p": PASS}
#: The button that shows a person the next statement (on the item's public card).
NEXT_ACTION = "statements"

STATEMENTS = CommandSpec(
    "statements",
    'statements "Question?" "Statement" "Another statement" ... [--closes 2d] '
    "[--moderation strict|lazy]",
    "Start a conversation: people agree, disagree or pass on statements one at a time and "
    "may add their own (strict, the default: each new statement waits for a moderator; lazy: "
    "shown at once, flagged ones queued). Results show the opinion groups and the consensus.",
    options={"closes": (), "moderation": ("strict", "lazy")},
    min_args=1,
    staff_only=True,
    menu="Start a statements conversation here (policy team)",
    fields=(
        Field("question", "The question the statements answer", required=True, limit=300),
        Field(
            "statements",
            "Seed statements separated by |, e.g. More trees | A weekly market",
            "args",
            limit=2000,
        ),
        CLOSES,
        Field(
            "moderation",
            "strict (default): each new statement waits for a moderator; lazy: shown at once",
            "option",
        ),
    ),
    publishes=True,
    slash_help="Start a statements conversation (policy team)",
)

RECORDED = {
    AGREE: N_("Recorded: you agree."),
    DISAGREE: N_("Recorded: you disagree."),
    PASS: N_("Recorded: you passed."),
}


def clean_statement(ctx: Context, text: str) -> str:
    statement = " ".join(text.split())
    if is_blank(statement):
        raise UserError(ctx.t("A statement is empty."))
    if len(statement) > MAX_STATEMENT:
        raise UserError(
            ctx.t(
                "A statement is {n} characters; keep it to {max} or fewer.",
                n=len(statement),
                max=MAX_STATEMENT,
            )
        )
    return statement


@router.command(STATEMENTS, filters=[policy_only])
async def statements(ctx: Context) -> None:
    assert ctx.command is not None
    question = clean_question(ctx.command.args[0])
    seeds = [clean_statement(ctx, s) for s in ctx.command.args[1:]]
    if len(seeds) > MAX_SEEDS:
        raise UserError(f"At most {MAX_SEEDS} seed statements; you gave {len(seeds)}.")
    if len({s.casefold() for s in seeds}) != len(seeds):
        raise UserError("Two seed statements are the same.")

    async def seed(item: Item) -> None:
        for text in seeds:
            await ctx.statements.add(item.id, text, ctx.clock())

    await create_and_publish(ctx, "statements", question, [], before_publish=seed)


async def open_statements(ctx: Context, short_id: str) -> Item:
    item = await open_item(ctx, short_id)
    if item.kind != "statements":
        raise UserError(ctx.t("{id} has no statements to vote on.", id=item.short_id))
    return item


def statement_card(ctx: Context, item: Item, statement: Shown) -> Card:
    """One statement for one person, with Agree / Disagree / Pass."""
    value = f"{item.short_id}:{statement.id}"
    return Card(
        title=clip(cards.question_in(item, ctx.t), 200),
        body=statement.text,
        buttons=(
            Button(ctx.t("Agree"), "opine", f"{value}:a", style="primary"),
            Button(ctx.t("Disagree"), "opine", f"{value}:d"),
            Button(ctx.t("Pass"), "opine", f"{value}:p"),
            Button(ctx.t("Add a statement"), "answer", item.short_id, opens_form=True),
        ),
        footer=ctx.t("Statement S{ref}", ref=statement.id),
        item=item.short_id,
    )


async def show_next(
    ctx: Context, item: Item, participant_id: int | None, *, voted: bool = False
) -> None:
    """The next statement this person has not voted on, fewest votes first; in a
    consultation, once they have voted on them all, the consultation's next item."""
    statement = await ctx.statements.next_for(item.id, participant_id)
    if statement is None and voted and item.consultation_id is not None:
        await consultation_flow.after_response(ctx, item, voted=False)
        return
    if statement is None:
        ctx.notify(
            ctx.t(
                "You have voted on every statement so far. Add your own, or come back later "
                "for new ones."
            )
        )
        return
    ctx.notify(statement_card(ctx, item, statement))


@router.action(NEXT_ACTION)
async def next_statement(ctx: Context) -> None:
    item = await open_statements(ctx, ctx.event.action_value)
    participant = await ctx.participants.find(ctx.event.platform, ctx.event.actor.user_id)
    await show_next(ctx, item, participant.id if participant is not None else None)


def _parse(ctx: Context, value: str) -> tuple[str, int, int]:
    short_id, _, rest = value.partition(":")
    number, _, choice = rest.partition(":")
    if not (number.isascii() and number.isdigit() and len(number) <= 12) or choice not in CHOICES:
        raise UserError(ctx.t("That button is not one of ours."))
    return short_id, int(number), CHOICES[choice]


@router.action("opine")
async def opine(ctx: Context) -> None:
    short_id, number, value = _parse(ctx, ctx.event.action_value)
    item = await open_statements(ctx, short_id)
    statement = await ctx.statements.get(item.id, number)
    if statement is None:
        raise UserError(ctx.t("That statement is not shown any more."))
    participant, has_consented = await consent.consented(ctx)
    if consent.must_wait(ctx, has_consented):
        payload = {"kind": "opinion", "item": item.short_id, "statement": number, "value": value}
        await consent.hold_for_consent(ctx, "vote", payload)
        return
    participant = participant or await ctx.participant()
    if not has_consented:  # notice mode: the first stored vote comes with the privacy notice
        participant.consented_at = ctx.clock()
    await record(ctx, statement, participant, value)
    if not has_consented:
        ctx.notify(await consent.privacy_notice(ctx, ctx.event))
    await show_next(ctx, item, participant.id, voted=True)


async def record(ctx: Context, statement: Shown, participant: Participant, value: int) -> None:
    await ctx.statements.vote(statement, participant, value, ctx.clock())
    ctx.notify(Notice(ctx.t(RECORDED[value]), success=True))


async def apply_pending_opinion(
    ctx: Context, participant: Participant, payload: dict[str, Any]
) -> None:
    """A vote on a statement that waited for consent, if its item is still open."""
    item = await ctx.items.by_short_id(str(payload["item"]))
    statement = (
        await ctx.statements.get(item.id, int(payload["statement"]))
        if item is not None and item.status == "open"
        else None
    )
    if item is None or statement is None:
        ctx.notify(
            ctx.t("{id} has closed meanwhile; your vote was not recorded.", id=payload["item"])
        )
        return
    await record(ctx, statement, participant, int(payload["value"]))
    await show_next(ctx, item, participant.id, voted=True)


async def add_submitted(ctx: Context, item: Item, answer_id: int, text: str) -> None:
    """A citizen's answer to a statements item is also a statement (shown while visible)."""
    await ctx.statements.add(item.id, text, ctx.clock(), answer_id=answer_id)
