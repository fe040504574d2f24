"""Reports from participants and the moderators' queue: approve, hide, redact, escalate."""

from __future__ import annotations

from bot.context import Context
from bot.errors import UserError
from bot.grammar import CommandSpec
from bot.inputs import INT_MAX, parse_int
from bot.router import Router, has_role
from bot.views import Button, Card, Notice
from handlers import lifecycle, screening
from storage.models import Answer, Item, Participant
from storage.moderation import ModerationRepository

router = Router("moderation")
moderators = has_role("moderator", refusal="Sorry, only moderators can do that.")

PAGE = 5
DECISIONS = ("approve", "hide", "redact", "escalate")

REPORT = CommandSpec(
    "report",
    "report REF (or reply /report to an answer)",
    "Report an answer to the moderators.",
    max_args=1,
)
FLAGGED = CommandSpec(
    "flagged",
    "flagged [PAGE]",
    "Moderators: answers waiting for a decision.",
    max_args=1,
    staff_only=True,
)
DECIDE = {
    name: CommandSpec(
        name, f"{name} REF [reason]", f"Moderators: {name} an answer.", min_args=1, staff_only=True
    )
    for name in DECISIONS
}


def parse_ref(ref: str) -> int:
    number = parse_int(ref.strip().upper().removeprefix("A"), low=1)
    if number is None:
        raise UserError(f"{ref[:20]!r} is not an answer reference (they look like A12).")
    return number


async def find_answer(ctx: Context, value: str) -> Answer:
    """``A12``/``12``, ``a:12`` or ``m:<channel>:<message id>`` (a report made on a message)."""
    repo = ModerationRepository(ctx.session)
    answer: Answer | None
    if value.startswith("m:"):
        _, channel, message = value.split(":", 2)
        answer = await repo.answer_at(ctx.event.platform, channel, message)
    else:
        answer = await repo.answer(parse_ref(value.removeprefix("a:")))
    if answer is None:
        raise UserError(
            "I can't find that answer. Only answers to Townhall questions can be reported."
        )
    return answer


async def report_answer(ctx: Context, answer: Answer) -> None:
    reporter = await ctx.participant()
    if reporter.id == answer.participant_id:
        raise UserError("You can't report your own answer.")
    new, count = await ModerationRepository(ctx.session).report(answer, reporter.id, ctx.clock())
    if new:
        answer.needs_review = True
        if count >= ctx.settings.report_threshold and answer.status == "visible":
            answer.status = "hidden"
            await ctx.audit.record(
                "system:reports", "answer.auto_hide", f"A{answer.id}", ctx.clock(), reports=count
            )
            await _refresh(ctx, answer)
    ctx.notify("Thanks for telling us. A moderator will look at it.")


@router.command(REPORT)
async def report_command(ctx: Context) -> None:
    assert ctx.command is not None
    if ctx.command.args:
        answer = await find_answer(ctx, ctx.command.args[0])
    elif ctx.event.reply_to:
        answer = await find_answer(ctx, f"m:{ctx.event.target.channel_id}:{ctx.event.reply_to}")
    else:
        raise UserError("Reply to the answer with report, or give its reference: report A12.")
    await report_answer(ctx, answer)


@router.action("report")
async def report_action(ctx: Context) -> None:
    """A platform's own report gesture (message shortcut, context menu, Report button)."""
    await report_answer(ctx, await find_answer(ctx, ctx.event.action_value))


def queue_card(answer: Answer, item: Item, reports: int) -> Card:
    state = "ESCALATED · " if answer.escalated else ""
    reasons = ", ".join(answer.flags) or "reported"
    return Card(
        title=f"A{answer.id} on “{item.question[:80]}”",
        body=answer.text[:1500],
        fields=(
            ("Status", f"{state}{answer.status}"),
            ("Reasons", reasons),
            ("Reports", str(reports)),
            ("Platform", answer.platform),
            ("Written", f"{answer.created_at:%Y-%m-%d %H:%M} UTC"),
        ),
        buttons=tuple(
            Button(
                label,
                "mod",
                f"{decision}:{answer.id}",
                style="danger" if decision == "hide" else "default",
            )
            for decision, label in (
                ("approve", "Approve"),
                ("hide", "Hide"),
                ("redact", "Redact"),
                ("escalate", "Escalate"),
            )
        ),
        confidential=True,
    )


@router.command(FLAGGED, filters=[moderators])
async def flagged(ctx: Context) -> None:
    assert ctx.command is not None
    page = (parse_int(ctx.command.args[0], low=1, high=INT_MAX) if ctx.command.args else None) or 1
    repo = ModerationRepository(ctx.session)
    total = await repo.queue_size()
    if total == 0:
        ctx.notify(Notice("The moderation queue is empty.", confidential=True))
        return
    pages = (total + PAGE - 1) // PAGE
    page = max(1, min(page, pages))
    for answer, item, reports in await repo.queue(limit=PAGE, offset=(page - 1) * PAGE):
        ctx.notify(queue_card(answer, item, reports))
    more = f" Next: flagged {page + 1}" if page < pages else ""
    ctx.notify(
        Notice(f"Page {page} of {pages}, {total} waiting, oldest first.{more}", confidential=True)
    )


async def decide(ctx: Context, decision: str, answer: Answer, reason: str) -> None:
    now = ctx.clock()
    was_visible = answer.status == "visible"
    details: dict[str, object] = {"reasons": list(answer.flags), "why": reason or decision}
    if decision == "approve":
        answer.status, answer.needs_review, answer.escalated = "visible", False, False
    elif decision == "hide":
        answer.status, answer.needs_review = "hidden", False
    elif decision == "redact":
        removed = [s.kind for s in screening.personal_data(answer.text)]
        answer.text = screening.redact(answer.text)
        answer.redacted = True
        answer.status, answer.needs_review = "visible", False
        details["removed"] = removed
    else:
        answer.escalated = True
    answer.reviewed_at, answer.reviewed_by = now, ctx.event.subject
    await ctx.record(f"answer.{decision}", f"A{answer.id}", **details)
    if was_visible != (answer.status == "visible") or decision == "redact":
        await _refresh(ctx, answer)
    if decision == "hide":
        await _tell_author(ctx, answer)
    done = {
        "approve": "approved and visible",
        "hide": "hidden",
        "redact": "personal data removed; the rest is visible",
        "escalate": "escalated to the policy team",
    }[decision]
    # Confidential: a decision typed in a group chat must not be announced to the group.
    ctx.notify(Notice(ctx.t("A{id}: {done}.", id=answer.id, done=done), confidential=True))


async def _refresh(ctx: Context, answer: Answer) -> None:
    item = await ctx.session.get(Item, answer.item_id)
    if item is not None:
        await lifecycle.request_refresh(ctx.session, item, ctx.clock())


async def _tell_author(ctx: Context, answer: Answer) -> None:
    item = await ctx.session.get(Item, answer.item_id)
    author = await ctx.session.get(Participant, answer.participant_id)
    if item is None or author is None or not item.notify_authors or not author.platform_user_id:
        return
    await ctx.send_private(
        author.platform,
        author.platform_user_id,
        Notice(
            f"A moderator has hidden your answer A{answer.id} to “{item.question[:80]}” because it "
            "does not meet the house rules (for example abuse or personal details). It is kept, "
            "not published."
        ),
    )


@router.action("mod", filters=[moderators])
async def moderate_button(ctx: Context) -> None:
    await _decide_from_queue(ctx, "")


@router.submit("mod", filters=[moderators])
async def moderate_form(ctx: Context) -> None:
    """A queue decision with a free-text reason (the dashboard's form): value as the button's."""
    await _decide_from_queue(ctx, " ".join(ctx.event.text.split())[:500])


async def _decide_from_queue(ctx: Context, reason: str) -> None:
    decision, _, ref = ctx.event.action_value.partition(":")
    if decision not in DECISIONS:
        raise UserError("That button is no longer active.")
    answer = await find_answer(ctx, ref)
    if not answer.needs_review and answer.reviewed_at is not None:
        # A queue card clicked again after its decision (platforms may leave it on screen):
        # say what was decided rather than deciding twice. Commands can still change it.
        ctx.notify(
            ctx.t("A{id} was already decided: it is {status}.", id=answer.id, status=answer.status)
        )
        return
    await decide(ctx, decision, answer, reason)


def _decision_handler(name: str) -> None:
    @router.command(DECIDE[name], filters=[moderators])
    async def handler(ctx: Context) -> None:
        assert ctx.command is not None
        answer = await find_answer(ctx, ctx.command.args[0])
        await decide(ctx, name, answer, " ".join(ctx.command.args[1:]))


for _name in DECISIONS:
    _decision_handler(_name)
