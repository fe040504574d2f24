"""One private reminder, ``TOWNHALL_REMINDER_HOURS`` before a consultation closes, to each
person who started it, has not finished and has not opted out.

Run by the scheduler. The reminder's outbox message and the progress row's ``reminded_at`` are
written in one transaction, so a restart (or a second scheduler) never sends it twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import SOURCE, choose, translator_for
from bot.timeparse import format_deadline
from bot.views import Button, Card, view_to_dict
from services.cards import text_in
from storage.consultations import ConsultationRepository
from storage.outbox import OutboxRepository


def window(hours: float) -> timedelta:
    return timedelta(hours=hours)


async def send_due(
    session: AsyncSession, now: datetime, hours: float, default_language: str = SOURCE
) -> int:
    """Queue every reminder now due, each in its reader's language (the one they chose, else
    ``default_language``: no platform is asking here); returns how many."""
    repo = ConsultationRepository(session)
    outbox = OutboxRepository(session)
    sent = 0
    for progress, consultation, person in await repo.due_reminders(now, window(hours)):
        t = translator_for(choose(person.language, default=default_language))
        closes = consultation.closes_at
        card = Card(
            title=t(
                "Reminder: {title}", title=text_in(consultation.title, consultation.title_cy, t)
            )[:300],
            body=(
                t(
                    "You started this consultation; it closes {when}. Press Continue to pick "
                    "up where you left off.",
                    when=format_deadline(closes),
                )
                if closes is not None
                else t(
                    "You started this consultation. Press Continue to pick up where you left off."
                )
            ),
            buttons=(Button(t("Continue"), "consult", str(consultation.id), style="primary"),),
            footer=t("Send stop for no more messages like this."),
            confidential=True,
        )
        await outbox.send(
            platform=person.platform,
            channel_id=person.user_id,
            view=view_to_dict(card),
            at=now,
            private=True,
        )
        progress.reminded_at = now
        sent += 1
    await session.flush()
    return sent


async def next_due(session: AsyncSession, hours: float) -> datetime | None:
    """When the next reminder window opens (for the scheduler's sleep)."""
    return await ConsultationRepository(session).next_reminder(window(hours))
