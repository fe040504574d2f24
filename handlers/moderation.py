"""Reports from participants and the moderators' queue: approve, hide, redact, escalate."""

from __future__ import annotations

import re

from bot.context import Context
from bot.errors import UsageError, UserError
from bot.grammar import DECISIONS, CommandSpec, Field
from bot.i18n import N_
from bot.inputs import INT_MAX, parse_int
from bot.outcomes import Decided
from bot.router import Router, has_role
from bot.views import Button, Card, Notice
from services import lifecycle, screening
from services.reasons import describe as describe_reasons
from storage.models import Answer, Item

router = Router("moderation")
moderators = has_role("moderator", refusal=N_("Sorry, only moderators can do that."))
policy_team = has_role("policy", refusal=N_("Sorry, only the policy team can do that."))
#: Subjects that are not chat accounts: nobody to message privately there.
NOT_CHAT = frozenset({"dashboard", "cli", "system", "participant"})

PAGE = 5
MAX_TEXT = 4000  # the answers table's limit


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


#: The queue's reason for an answer reported again after a moderator decided on it.
REPORTED_AGAIN = "reported:after-review"

#: The typed fields of the moderation commands (Discord's subcommand options).
REF = Field("ref", "The answer's reference, e.g. A12", required=True)
REASON = Field("reason", "Why (kept in the audit log)", limit=300)
REPORT = CommandSpec(
    "report",
    "report REF (or reply /report to an answer)",
    N_("Report an answer to the moderators."),
    max_args=1,
    menu="Reply to an answer with this to report it",
    fields=(REF,),
    slash_help="Report an answer to the moderators",
)
FLAGGED = CommandSpec(
    "flagged",
    "flagged [PAGE]",
    "Moderators: answers waiting for a decision.",
    max_args=1,
    staff_only=True,
    menu="Answers waiting for review (moderators)",
    fields=(
        Field(
            "page",
            "Which page of the queue (5 answers a page, oldest first)",
            kind="number",
            limit=10_000,
        ),
    ),
    slash_help="Moderators: answers waiting for a decision",
)
#: The command menu's line per decision (Telegram's).
DECIDE_MENU = {
    "approve": "Approve an answer, e.g. /approve A12 (moderators)",
    "hide": "Hide an answer (moderators)",
    "redact": "Remove personal data from an answer (moderators)",
    "escalate": "Escalate an answer to the policy team (moderators)",
}
#: The slash-command list's line per decision (Discord's).
DECIDE_SLASH_HELP = {
    "approve": "Moderators: publish a held or reported answer",
    "hide": "Moderators: hide an answer (its author is told privately)",
    "redact": "Moderators: remove the personal data from an answer and publish the rest",
    "escalate": "Moderators: pass an answer to the policy team",
}
DECIDE = {
    name: CommandSpec(
        name,
        f"{name} REF [reason]",
        f"Moderators: {name} an answer.",
        min_args=1,
        staff_only=True,
        menu=DECIDE_MENU[name],
        fields=(REF, REASON),
        slash_help=DECIDE_SLASH_HELP[name],
    )
    for name in DECISIONS
}
DECIDE["redact"] = CommandSpec(
    "redact",
    'redact REF [reason] [--words "exact words"]',
    "Moderators: remove the personal data screening finds, or the exact words given.",
    options={"words": ()},
    min_args=1,
    staff_only=True,
    menu=DECIDE_MENU["redact"],
    fields=(REF, REASON),
    slash_help=DECIDE_SLASH_HELP["redact"],
)


def parse_ref(ref: str) -> int:
    number = parse_int(ref.strip().upper().removeprefix("A"), low=1)
    if number is None:
        raise UserError(f"{ref[:20]!r} is not an answer reference (they look like A12).")
    return number


async def find_answer(ctx: Context, value: str) -> Answer:
    """``A12``/``12``, ``a:12`` or ``m:<channel>:<message id>`` (a report made on a message)."""
    repo = ctx.moderation
    answer: Answer | None
    if value.startswith("m:"):
        _, channel, message = value.split(":", 2)
        answer = await repo.answer_at(ctx.event.platform, channel, message)
        if answer is None:
            raise UserError(
                "I can't find that answer. Only answers to Townhall questions can be reported."
            )
        return answer
    number = parse_ref(value.removeprefix("a:"))
    answer = await repo.answer(number)
    if answer is not None:
        return answer
    if await repo.erased(number) is not None:
        raise UserError(ctx.t("Answer A{id} was erased at its author's request.", id=number))
    raise UserError(ctx.t("There is no answer A{id}.", id=number))


async def report_answer(ctx: Context, answer: Answer) -> None:
    reporter = await ctx.participant()
    if reporter.id == answer.participant_id:
        raise UserError(ctx.t("You can't report your own answer."))
    new, count = await ctx.moderation.report(answer, reporter.id, ctx.clock())
    if new:
        answer.needs_review = True
        reviewed = answer.reviewed_at is not None
        if reviewed and REPORTED_AGAIN not in answer.flags:
            # Back in the queue over a moderator's decision: the queue says why.
            answer.flags = [*answer.flags, REPORTED_AGAIN]
        if count >= ctx.settings.report_threshold and answer.status == "visible":
            answer.status = "hidden"
            details: dict[str, object] = {"reports": count}
            if reviewed:
                details["since_decision"] = f"{answer.reviewed_at:%Y-%m-%d %H:%M} UTC"
            await ctx.audit.record(
                "system:reports", "answer.auto_hide", f"A{answer.id}", ctx.clock(), **details
            )
            await _refresh(ctx, answer)
    ctx.notify(ctx.t("Thanks for telling us. A moderator will look at it."))


@router.command(REPORT)
async def report_command(ctx: Context) -> None:
    assert ctx.command is not None
    if ctx.command.args:
        answer = await find_answer(ctx, ctx.command.args[0])
    elif ctx.event.reply_to:
        answer = await find_answer(ctx, f"m:{ctx.event.target.channel_id}:{ctx.event.reply_to}")
    else:
        raise UserError(
            ctx.t("Reply to the answer with report, or give its reference: report A12.")
        )
    await report_answer(ctx, answer)


@router.action("report")
async def report_action(ctx: Context) -> None:
    """A platform's own report gesture (message shortcut, context menu, Report button)."""
    await report_answer(ctx, await find_answer(ctx, ctx.event.action_value))


def queue_card(answer: Answer, item: Item, reports: int) -> Card:
    state = "ESCALATED · " if answer.escalated else ""
    reasons = describe_reasons(answer.flags)
    return Card(
        title=f"A{answer.id} on “{item.question[:80]}”",
        body=answer.text[:1500],
        fields=(
            ("Status", f"{state}{answer.status}"),
            ("Reasons", reasons),
            (
                "Reports",
                f"{reports} since the last decision" if answer.reviewed_at else str(reports),
            ),
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
    raw = ctx.command.args[0] if ctx.command.args else "1"
    page = parse_int(raw, low=1, high=INT_MAX)
    if page is None:
        raise UsageError(f"{raw[:20]!r} is not a page number.\nUsage: {FLAGGED.usage}")
    repo = ctx.moderation
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


def _redaction(ctx: Context, answer: Answer, words: tuple[str, ...]) -> tuple[str, list[str]]:
    """The redacted text and what kinds of thing were removed; refuses when nothing would be."""
    if not words:
        removed = [s.kind for s in screening.personal_data(answer.text)]
        if not removed:
            raise UserError(
                ctx.t(
                    "A{id} was not changed: screening found no personal data in it. To remove "
                    'particular words, give them: redact A{id} --words "exact words"',
                    id=answer.id,
                )
            )
        return screening.redact(answer.text), removed
    text, removed = answer.text, []
    for phrase in (" ".join(w.split()) for w in words):
        pattern = re.compile(re.escape(phrase).replace(r"\ ", r"\s+"), re.IGNORECASE)
        if not phrase or not pattern.search(text):
            raise UserError(
                ctx.t(
                    "A{id} does not contain “{words}”; nothing was changed.",
                    id=answer.id,
                    words=phrase[:60],
                )
            )
        text, count = pattern.subn("[removed]", text)
        removed += ["words"] * count
    if len(text) > MAX_TEXT:
        raise UserError("Removing that would make the answer too long; give longer passages.")
    return text, removed


async def decide(
    ctx: Context, decision: str, answer: Answer, reason: str, words: tuple[str, ...] = ()
) -> None:
    now = ctx.clock()
    was_visible = answer.status == "visible"
    details: dict[str, object] = {"reasons": list(answer.flags), "why": reason or decision}
    removed: list[str] = []
    if decision == "approve":
        answer.status, answer.needs_review, answer.escalated = "visible", False, False
    elif decision == "hide":
        answer.status, answer.needs_review, answer.escalated = "hidden", False, False
    elif decision == "redact":
        answer.text, removed = _redaction(ctx, answer, words)
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
    if decision == "escalate":
        await _tell_policy_team(ctx, answer, reason)
    done = {
        "approve": "approved and visible",
        "hide": "hidden",
        "redact": "personal data removed; the rest is visible",
        "escalate": "escalated to the policy team",
    }[decision]
    if decision == "redact" and words:
        done = f"{plural(len(removed), 'passage')} removed; the rest is visible"
    ctx.produced(Decided(answer.id, decision))
    # Confidential: a decision typed in a group chat must not be announced to the group.
    ctx.notify(Notice(ctx.t("A{id}: {done}.", id=answer.id, done=done), confidential=True))


async def _refresh(ctx: Context, answer: Answer) -> None:
    item = await ctx.items.get(answer.item_id)
    if item is not None:
        await lifecycle.request_refresh(ctx.session, item, ctx.clock())


async def _tell_author(ctx: Context, answer: Answer) -> None:
    item = await ctx.items.get(answer.item_id)
    author = await ctx.participants.get(answer.participant_id)
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


async def _tell_policy_team(ctx: Context, answer: Answer, reason: str) -> None:
    """An escalation reaches the item's author and the policy team in chat (privately);
    dashboard accounts see it on the item's page."""
    item = await ctx.items.get(answer.item_id)
    if item is None:  # pragma: no cover - foreign key
        return
    public = ctx.settings.base_url.rstrip("/")
    why = f" Reason: {reason}" if reason else ""
    notice = Notice(
        ctx.t(
            "A moderator escalated answer A{id} to “{q}” to the policy team.{why} "
            "Approve or hide it on the item's dashboard page: {url}",
            id=answer.id,
            q=item.question[:80],
            why=why,
            url=f"{public}/items/{item.short_id}",
        ),
        confidential=True,
    )
    recipients = [
        item.created_by,
        *ctx.settings.policy_subjects,
        *await ctx.role_grants.subjects_with("policy"),
    ]
    told: set[str] = set()
    for subject in recipients:
        platform, sep, user_id = subject.partition(":")
        if not sep or not user_id or platform in NOT_CHAT or subject in told:
            continue
        told.add(subject)
        await ctx.send_private(platform, user_id, notice)


@router.submit("escalated", filters=[policy_team])
async def escalated_form(ctx: Context) -> None:
    """The policy team's decision on an escalated answer (the dashboard item page's form)."""
    decision, _, ref = ctx.event.action_value.partition(":")
    if decision not in ("approve", "hide"):
        raise UserError("Choose Approve or Hide.")
    answer = await find_answer(ctx, ref)
    if not answer.escalated:
        ctx.notify(
            ctx.t(
                "A{id} is no longer escalated: it is {status}.", id=answer.id, status=answer.status
            )
        )
        return
    await decide(ctx, decision, answer, " ".join(ctx.event.text.split())[:500])


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
        raise UserError(ctx.t("That button is no longer active."))
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
        words = ctx.command.options.get("words", "")
        reason = " ".join(ctx.command.args[1:])
        await decide(ctx, name, answer, reason, words=(words,) if words.strip() else ())


for _name in DECISIONS:
    _decision_handler(_name)
