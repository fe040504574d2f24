"""Citizens' privacy: the notice, consent, what we hold (mydata) and erasure (forget)."""

from __future__ import annotations

import json

from bot.context import Context
from bot.errors import UserError
from bot.grammar import CommandSpec, Field
from bot.i18n import LANGUAGES, N_, count, supported, translator_for
from bot.router import Router
from bot.views import Button, Card, Notice
from handlers.consent import consent_card, privacy_text
from handlers.questions import apply_pending
from services import lifecycle
from storage.people import pseudonym

router = Router("privacy")
MYDATA_PART = 3000

PRIVACY = CommandSpec(
    "privacy",
    "privacy",
    N_("Read how your answers are used; give consent."),
    max_args=0,
    menu="How your answers are used; consent",
    slash_help="How your answers are used; give your consent",
)
MYDATA = CommandSpec(
    "mydata",
    "mydata",
    N_("Get a private copy of everything we hold about you."),
    max_args=0,
    menu="Get a private copy of what we hold about you",
    slash_help="A private copy of what Townhall holds about you",
)
FORGET = CommandSpec(
    "forget",
    "forget",
    N_("Erase your identity, votes and answers everywhere."),
    max_args=0,
    menu="Erase your votes and answers",
    slash_help="Erase your votes, answers and identity",
)

LANGUAGE = CommandSpec(
    "language",
    "language cy|en",
    N_("Choose the language Townhall writes to you in: cy (Cymraeg) or en (English)."),
    max_args=1,
    menu="Cymraeg / English: choose your language",
    slash_help="Choose your language: cy (Cymraeg) or en (English)",
    fields=(Field("language", "cy (Cymraeg) or en (English)", limit=8),),
)
#: What people type for a language besides its code.
LANGUAGE_NAMES = {"cymraeg": "cy", "welsh": "cy", "english": "en", "saesneg": "en"}
#: Said in the language just chosen, so the person sees the change at once.
NOW_IN = N_("From now on Townhall will write to you in English.")
NOTHING_HELD = N_("We hold nothing about you.")
USING = N_("Townhall writes to you in English. Send language cy for Cymraeg.")


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def chunk_lines(text: str, size: int) -> list[str]:
    """Split at line ends into parts of about ``size`` characters (a longer line stands alone)."""
    parts: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        if current and len(current) + len(line) > size:
            parts.append(current)
            current = ""
        current += line
    return [*parts, current] if current else parts


def _key(ctx: Context) -> str:
    return pseudonym(
        ctx.settings.secret_key.get_secret_value(), ctx.event.platform, ctx.event.actor.user_id
    )


@router.command(PRIVACY)
async def privacy(ctx: Context) -> None:
    participant = await ctx.participants.find(ctx.event.platform, ctx.event.actor.user_id)
    if participant is None or participant.consented_at is None:
        card = consent_card(ctx)
        ctx.notify(
            Card(title=ctx.t("Privacy"), body=card.body, buttons=card.buttons, confidential=True)
        )
        return
    ctx.notify(
        Notice(
            privacy_text(ctx)
            + " "
            + ctx.t("You agreed on {day}.", day=participant.consented_at.strftime("%Y-%m-%d")),
            confidential=True,
        )
    )


@router.action("consent")
async def consent(ctx: Context) -> None:
    pending = ctx.pending
    if ctx.event.action_value != "yes":
        dropped = await pending.take_all(_key(ctx))
        ctx.notify(ctx.t("Understood: nothing was recorded.") if dropped else ctx.t("Understood."))
        return
    participant = await ctx.participant()
    if participant.consented_at is None:
        await ctx.privacy.consent(participant, ctx.clock())
        await ctx.audit.record(
            ctx.actor_label, "participant.consent", ctx.event.platform, ctx.clock()
        )
    waiting = await pending.take_all(participant.pseudonym)
    if not waiting:
        ctx.notify(Notice(ctx.t("Thank you: your consent is recorded."), success=True))
    for payload in waiting:
        await apply_pending(ctx, participant, payload)


@router.command(MYDATA)
async def mydata(ctx: Context) -> None:
    participant = await ctx.participants.find(ctx.event.platform, ctx.event.actor.user_id)
    if participant is None:
        ctx.notify(Notice(ctx.t(NOTHING_HELD), confidential=True))
        return
    held = await ctx.privacy.held_about(participant)
    summary = {
        "participant": participant.pseudonym[:16],
        "platform": participant.platform,
        "first_seen": participant.created_at.isoformat(),
        "consented": participant.consented_at.isoformat() if participant.consented_at else None,
        # The language replies come in; "chosen" when the person set it with `language`.
        "language": participant.language or ctx.language,
        "language_chosen": participant.language is not None,
        **held,
    }
    body = json.dumps(summary, ensure_ascii=False, indent=1)
    counts: tuple[tuple[str, str], ...] = (
        (ctx.t("Votes"), str(len(held["votes"]))),
        (ctx.t("Answers"), str(len(held["answers"]))),
    )
    if held["subscriptions"]:  # topic subscriptions (issue 17), counted once there are any
        counts += ((ctx.t("Subscriptions"), str(len(held["subscriptions"]))),)
    # Chat messages are short: a long copy comes in numbered parts, whole, never cut.
    parts = chunk_lines(body, MYDATA_PART)
    for number, part in enumerate(parts, 1):
        ctx.notify(
            Card(
                title=ctx.t("What Townhall holds about you")
                + (f" ({number}/{len(parts)})" if len(parts) > 1 else ""),
                body=part,
                fields=counts if number == 1 else (),
                footer=ctx.t("Send forget to erase all of it.") if number == len(parts) else "",
                confidential=True,
            )
        )


@router.command(FORGET)
async def forget(ctx: Context) -> None:
    ctx.notify(
        Card(
            title=ctx.t("Erase everything about you?"),
            body=ctx.t(
                "This deletes your votes and answers on every item and forgets who you are. "
                "Results update. It cannot be undone."
            ),
            buttons=(
                Button(ctx.t("Yes, erase it"), "forget", "confirm", style="danger"),
                Button(ctx.t("Cancel"), "forget", "cancel"),
            ),
            confidential=True,
        )
    )


@router.action("forget")
async def forget_confirmed(ctx: Context) -> None:
    if ctx.event.action_value != "confirm":
        ctx.notify(ctx.t("Nothing was erased."))
        return
    participant = await ctx.participants.find(ctx.event.platform, ctx.event.actor.user_id)
    await ctx.pending.take_all(_key(ctx))
    if participant is None:
        ctx.notify(ctx.t(NOTHING_HELD))
        return
    erased = await ctx.privacy.erase(participant, ctx.clock())
    # The outbox may still hold their raw id (a private notice to them) or their answers'
    # references (a moderation card): erased too, delivered or not.
    await ctx.outbox.erase_person(
        ctx.event.platform,
        ctx.event.actor.user_id,
        refs=[f"A{answer_id}" for answer_id in erased["answer_ids"]],
    )
    await ctx.audit.record(
        ctx.actor_label,
        "participant.forget",
        ctx.event.platform,
        ctx.clock(),
        votes=erased["votes"],
        answers=erased["answers"],
    )
    for item_id in erased["items"]:
        item = await ctx.items.get(item_id)
        if item is not None:
            await lifecycle.request_refresh(ctx.session, item, ctx.clock())
    said = ctx.t(
        "Done: we erased {v} and {a}, and forgot who you are.",
        v=count("{n} vote", "{n} votes", erased["votes"], ctx.t),
        a=count("{n} answer", "{n} answers", erased["answers"], ctx.t),
    )
    ctx.notify(Notice(said, success=True))


@router.command(LANGUAGE)
async def language(ctx: Context) -> None:
    """``language cy`` / ``language en``: remembered on the person, used from the next reply."""
    args = ctx.command.args if ctx.command else ()
    if not args:
        ctx.notify(Notice(ctx.t(USING), confidential=True))
        return
    typed = args[0].strip().casefold()
    wanted = LANGUAGE_NAMES.get(typed) or supported(typed)
    if wanted is None:
        raise UserError(
            ctx.t(
                "Townhall can write to you in {choices}. Send language cy for Cymraeg or "
                "language en for English.",
                choices=", ".join(f"{name} ({code})" for code, name in LANGUAGES.items()),
            )
        )
    participant = await ctx.participant()
    await ctx.participants.choose_language(participant, wanted)
    ctx.notify(Notice(translator_for(wanted)(NOW_IN), success=True, confidential=True))
