"""How long an identifier from outside may be: one check where input enters, one refusal.

Platform ids, channel and message ids and staff subjects are stored in columns of fixed width.
PostgreSQL refuses a longer value with an error mid-transaction (SQLite silently accepts it),
so every entry point (each adapter's events, the CLI, the dashboard's forms) checks here first
and gives a clear one-line refusal instead. The limits come from the models, so they cannot drift.
"""

from __future__ import annotations

from sqlalchemy import String

from bot.errors import UserError
from bot.events import Event
from storage.models import Participant, ProcessedEvent, Publication, RoleGrant


def _width(column: object) -> int:
    kind = getattr(column, "type", None)
    assert isinstance(kind, String) and kind.length is not None
    return kind.length


PLATFORM = _width(ProcessedEvent.__table__.c.platform)
EVENT_ID = _width(ProcessedEvent.__table__.c.event_id)
USER_ID = _width(Participant.__table__.c.platform_user_id)
PLACE_ID = _width(Publication.__table__.c.channel_id)  # channels, threads and messages
SUBJECT = _width(RoleGrant.__table__.c.subject)


class IdentifierTooLong(UserError):
    """An identifier does not fit its column; the message names which and the limit."""


def check(what: str, value: str | None, limit: int) -> None:
    if value is not None and len(value) > limit:
        raise IdentifierTooLong(
            f"{what} is too long: at most {limit} characters, this one has {len(value)}."
        )


def check_user(user_id: str, platform: str = "") -> None:
    """A person's platform user id (and the subject ``platform:user_id`` it makes)."""
    check("The user name" if platform == "console" else "Your user id", user_id, USER_ID)
    if platform:
        check_subject(f"{platform}:{user_id}")


def check_subject(subject: str) -> None:
    """A staff subject, ``platform:user_id`` (roles, audit actor)."""
    platform, _, user_id = subject.partition(":")
    check("The platform name", platform, PLATFORM)
    check("The user id", user_id, USER_ID)
    check("The subject", subject, SUBJECT)


def check_account_email(email: str) -> None:
    """A dashboard account's email: it acts as ``dashboard:<email>``, which must fit."""
    check("The email address", email, SUBJECT - len("dashboard:"))


def check_event(event: Event) -> None:
    """Every identifier an event carries into storage; raises :class:`IdentifierTooLong`."""
    check("The platform name", event.platform, PLATFORM)
    check("The event id", event.event_id, EVENT_ID)
    if not event.actor.staff:
        check_user(event.actor.user_id, event.platform)
    else:
        check("The account", event.actor.staff, SUBJECT)
    target = event.target
    check("The channel id", target.channel_id, PLACE_ID)
    check("The thread id", target.thread_id, PLACE_ID)
    check("The message id", target.message_id, PLACE_ID)
    check("The message replied to", event.reply_to, PLACE_ID)
