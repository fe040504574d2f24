""" "You said, we did": the policy team's response to a consultation, with its headline results,
sent once to everyone who took part and has not opted out (STOP / unsubscribe from everything).

Used by the chat command ``respond SLUG "text"`` and the dashboard's form
(``POST /consultations/{slug}/respond``). The response row, its audit entry and one outbox
message per person are written in the caller's transaction: committed together, each person
gets it exactly once (the outbox delivers), and a failed commit sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import SOURCE, Translator, choose, count, identity_translator, translator_for
from bot.views import Card, view_to_dict
from services.cards import label_in, question_in, text_in
from services.consultations import item_results, status
from storage.consultations import ConsultationRepository
from storage.ledger import AuditLog
from storage.models import Consultation, ConsultationResponse, Item
from storage.outbox import OutboxRepository

MAX_RESPONSE = 4000
#: Items listed in the headline results (the rest are on the web chat page).
HEADLINE_ITEMS = 12


class ResponseRefused(ValueError):
    """No such consultation, or an empty or too long text: nothing was recorded or sent."""


@dataclass(frozen=True, slots=True)
class Headline:
    text: str
    participants: int
    completed: int
    status: str


@dataclass(frozen=True, slots=True)
class ResponseSent:
    slug: str
    response_id: int
    recipients: int


async def headline(
    session: AsyncSession,
    consultation: Consultation,
    now: datetime,
    t: Translator = identity_translator,
) -> Headline:
    """One line per item: the most chosen option with its share, or the number of answers; in
    ``t``'s language (the policy team's own reads English)."""
    repo = ConsultationRepository(session)
    lines = []
    items = list(await repo.items(consultation))
    for item in items[:HEADLINE_ITEMS]:
        summary = await item_results(session, item)
        total = sum(o.votes for o in summary.options)
        parts = []
        if total:
            top = max(summary.options, key=lambda o: o.votes)
            parts.append(
                t(
                    "{label} {percent}% of {total}",
                    label=_label(item, top.position, top.label, t),
                    percent=round(100 * top.votes / total),
                    total=total,
                )
            )
        if summary.answers:
            parts.append(count("{n} comment", "{n} comments", len(summary.answers), t))
        shown = "; ".join(parts) or t("no responses")
        lines.append(f"{item.position}. {question_in(item, t)[:80]}: {shown}")
    if len(items) > HEADLINE_ITEMS:
        lines.append(t("... and {n} more", n=len(items) - HEADLINE_ITEMS))
    progress = await repo.progress(consultation)
    return Headline(
        "\n".join(lines), progress.participants, progress.completed, status(consultation, now)
    )


def _label(item: Item, position: int, label: str, t: Translator) -> str:
    option = next((o for o in item.options if o.position == position), None)
    return label_in(option, t) if option is not None else t(label)


async def respond(
    session: AsyncSession,
    consultation_slug: str,
    text: str,
    actor: str,
    now: datetime,
    default_language: str = SOURCE,
) -> ResponseSent:
    """Record the response (audited) and queue it, with the headline results, privately to
    each person who took part and has not opted out, each in their language (the one they
    chose, else ``default_language``). The caller commits."""
    repo = ConsultationRepository(session)
    consultation = await repo.latest(consultation_slug.strip().lower()[:100])
    if consultation is None:
        raise ResponseRefused(f"I can't find consultation {consultation_slug[:40]}.")
    text = text.strip()
    if not text:
        raise ResponseRefused("The response is empty: write what was decided.")
    if len(text) > MAX_RESPONSE:
        raise ResponseRefused(f"The response is {len(text)} characters; keep it to {MAX_RESPONSE}.")
    recipients = await repo.took_part(consultation)
    response = await repo.add_response(
        ConsultationResponse(
            consultation_id=consultation.id,
            text=text,
            actor=actor,
            created_at=now,
            recipients=len(recipients),
        )
    )
    views: dict[str, dict[str, Any]] = {}  # one per language
    outbox = OutboxRepository(session)
    for person in recipients:
        language = choose(person.language, default=default_language)
        if language not in views:
            t = translator_for(language)
            summary = await headline(session, consultation, now, t)
            title = text_in(consultation.title, consultation.title_cy, t)
            views[language] = view_to_dict(
                Card(
                    title=t("You said, we did: {title}", title=title)[:300],
                    body=text,
                    fields=((t("What people said"), summary.text),) if summary.text else (),
                    footer=t(
                        "Thank you for taking part. Send stop for no more messages like this."
                    ),
                    confidential=True,
                )
            )
        await outbox.send(
            platform=person.platform,
            channel_id=person.user_id,
            view=views[language],
            at=now,
            private=True,
        )
    await AuditLog(session).record(
        actor,
        "consultation.respond",
        consultation.slug or "",
        now,
        response=response.id,
        recipients=len(recipients),
    )
    return ResponseSent(consultation.slug or "", response.id, len(recipients))
