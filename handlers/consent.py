"""Consent before a person's first stored vote or answer: the notice, the card, the waiting list.

``TOWNHALL_CONSENT=explicit``: a first response is held (not counted) until the person agrees,
counted the moment they do, dropped if they refuse. ``notice``: it is stored at once and the
privacy notice comes with its confirmation.
"""

from __future__ import annotations

from typing import Any

from bot.context import Context
from bot.events import Event
from bot.i18n import N_
from bot.messages import SENT_PRIVATELY
from bot.views import Button, Card, Notice, view_to_dict
from storage.models import Participant
from storage.people import pseudonym


def notice_text(ctx: Context) -> str:
    """The privacy notice in the reader's language: the operator's Welsh notice if set, our
    own default through the catalogue, else the operator's notice as written."""
    return ctx.settings.privacy_notice_in(ctx.language)


def privacy_text(ctx: Context) -> str:
    return f"{notice_text(ctx)} " + ctx.t("Privacy notice: {url}", url=ctx.settings.privacy_url)


async def privacy_notice(
    ctx: Context, event: Event, later: list[tuple[str, str, dict[str, Any]]] | None = None
) -> Notice:
    """The privacy notice that comes with a first stored vote (notice mode).

    Where the click's answer cannot hold it (a Telegram toast), the full text goes to the
    person's private chat through the outbox, in this transaction (delivered off the request
    path), and the answer carries the link alone. ``later``: collect that outbox message
    there (a batch writes them together) instead of writing it now.
    """
    text = privacy_text(ctx)
    room = event.notice_room
    if room is None or len(text) <= room:
        return Notice(text)
    if later is None:
        await ctx.send_private(event.platform, event.actor.user_id, Notice(text))
    else:
        later.append((event.platform, event.actor.user_id, view_to_dict(Notice(text))))
    short = ctx.t("Privacy notice: {url}", url=ctx.settings.privacy_url)
    return Notice(short if len(short) <= room else ctx.t(SENT_PRIVATELY))


#: The consent card's title and footer for what waits (whole sentences: they translate whole).
CONSENT_WORDS = {
    "answer": (N_("Before we record your answer"), N_("Your answer is kept until you choose.")),
    "answers": (
        N_("Before we record your answers"),
        N_("Your answers are kept until you choose."),
    ),
    "vote": (N_("Before we record your vote"), N_("Your vote is kept until you choose.")),
}


def consent_card(ctx: Context, what: str = "answer") -> Card:
    title, footer = CONSENT_WORDS.get(
        what, (f"Before we record your {what}", f"Your {what} is kept until you choose.")
    )
    return Card(
        title=ctx.t(title),
        body=privacy_text(ctx),
        buttons=(
            Button(ctx.t("I agree"), "consent", "yes", style="primary"),
            Button(ctx.t("No thanks"), "consent", "no"),
        ),
        footer=ctx.t(footer),
        confidential=True,
    )


async def consented(ctx: Context) -> tuple[Participant | None, bool]:
    """The acting person (if known) and whether their responses may be stored now."""
    participant = await ctx.participants.find(ctx.event.platform, ctx.event.actor.user_id)
    return participant, participant is not None and participant.consented_at is not None


async def hold_for_consent(ctx: Context, what: str, payload: dict[str, Any]) -> None:
    """Explicit mode: keep this response until the person agrees, and ask them."""
    key = pseudonym(
        ctx.settings.secret_key.get_secret_value(), ctx.event.platform, ctx.event.actor.user_id
    )
    await ctx.pending.add(key, ctx.event.platform, payload, ctx.clock())
    ctx.notify(consent_card(ctx, what))


def must_wait(ctx: Context, has_consented: bool) -> bool:
    return not has_consented and ctx.settings.consent_mode == "explicit"
