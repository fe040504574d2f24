"""Turn one event into one committed transaction, exactly once per (platform, event_id)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import structlog
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.adapter import Outcome
from bot.config import Settings
from bot.context import Clock, Context, Translator, identity_translator, utc_now
from bot.errors import UserError
from bot.events import Event
from bot.i18n import N_, for_person, language_of
from bot.router import RouteTable
from bot.views import Notice
from storage.db import Database, written
from storage.ledger import EventLedger
from storage.people import ParticipantRepository

if TYPE_CHECKING:
    from bot.batcher import Batcher

log = structlog.get_logger("townhall.dispatch")

SORRY = N_("Sorry, something went wrong on our side. Your message was not lost; please try again.")


class Dispatcher:
    """Calls the matching handler inside a transaction that also records the event id.

    A redelivered event finds its id taken and changes nothing. A person's mistake
    (:class:`UserError`) rolls back the handler's writes, still marks the event processed and
    answers with a short message. A database outage propagates, so the adapter does not
    acknowledge and the platform delivers again later.
    """

    def __init__(
        self,
        db: Database,
        settings: Settings,
        routes: RouteTable,
        *,
        clock: Clock = utc_now,
        translator: Translator = identity_translator,
        on_commit: Callable[[frozenset[str]], None] = lambda wrote: None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.routes = routes
        self.clock = clock
        self.translator = translator
        self.on_commit = on_commit
        #: The grouped write path for the events it takes (vote clicks), if there is one.
        self.batcher: Batcher | None = None

    async def __call__(self, event: Event) -> Outcome:
        if self.batcher is not None and self.batcher.takes(event):
            return await self.batcher.submit(event)
        return await self.one(event)

    async def one(self, event: Event) -> Outcome:
        """The per-event path: one transaction for this event alone."""
        started = time.perf_counter()
        outcome = await self._dispatch(event)
        log.info(
            "event",
            platform=event.platform,
            kind=event.kind.value,
            action=event.action_id or None,
            handled=outcome.handled,
            duplicate=outcome.duplicate,
            failed=outcome.failed,
            ms=round((time.perf_counter() - started) * 1000, 1),
        )
        return outcome

    async def _dispatch(self, event: Event) -> Outcome:
        problem = SORRY
        t = self.translator
        try:
            async with self.db.transaction() as session:
                if not await EventLedger(session).claim(
                    event.platform, event.event_id, self.clock()
                ):
                    return Outcome(duplicate=True)
                t = await self.translator_for(session, event)
                ctx = Context(event, session, self.settings, self.clock, t)
                handled = await self.routes.handle(ctx)
            self.on_commit(written(session))
            return Outcome(
                handled=handled, notices=ctx.notices, results=ctx.results, language=ctx.language
            )
        except UserError as exc:
            problem = exc.said(t)
            log.info("refused", platform=event.platform, kind=event.kind.value)
            log.debug("refusal", reason=problem)
        except Exception as exc:
            if database_unavailable(exc):
                raise
            log.exception("handler failed", platform=event.platform, kind=event.kind.value)
            problem = SORRY
        # The handler's writes are rolled back; remember the event so a redelivery is not
        # answered twice, and tell the person what happened.
        async with self.db.transaction() as session:
            first = await EventLedger(session).claim(event.platform, event.event_id, self.clock())
        if not first:
            return Outcome(duplicate=True)
        failed = problem is SORRY
        return Outcome(
            handled=True,
            failed=failed,
            notices=[Notice(t(SORRY) if failed else problem)],
            language=language_of(t),
        )

    async def translator_for(self, session: AsyncSession, event: Event) -> Translator:
        """The person's language: the one they chose, else their platform's, else the default.

        Staff acting from the dashboard read English; a translator given to the dispatcher
        (tests) is used as it is.
        """
        if self.translator is not identity_translator or event.actor.staff:
            return self.translator
        people = ParticipantRepository(session, self.settings.secret_key.get_secret_value())
        chosen = await people.language_of(event.platform, event.actor.user_id)
        return for_person(
            self.translator, chosen, event.actor.language, self.settings.default_language
        )


def database_unavailable(exc: BaseException) -> bool:
    """The database could not be reached or used right now: the platform should redeliver.

    Anything on the way to a commit counts: no connection (refused, "the database system is
    starting up", too many clients), a pool that stayed exhausted (``QueuePool limit ...
    timeout``), a dropped connection, a lock or statement timeout, a deadlock or serialization
    failure. A handler bug or an integrity/data error on the person's input does not. The
    whole cause chain is looked at, since drivers and SQLAlchemy wrap each other's errors.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _outage(current):
            return True
        orig = getattr(current, "orig", None)
        if isinstance(orig, BaseException) and _outage(orig):
            return True
        current = current.__cause__ or current.__context__
    return False


#: SQLSTATE classes/codes meaning "try again later": connection exceptions (08), insufficient
#: resources (53, e.g. too many connections), operator intervention (57, e.g. the server is
#: starting or shutting down, a cancelled statement), lock not available, deadlock and
#: serialization failures.
_RETRYABLE_SQLSTATE_PREFIXES = ("08", "53", "57")
_RETRYABLE_SQLSTATES = {"55P03", "40001", "40P01"}
#: What the person's input did to the database: a permanent, recorded refusal, not an outage.
BAD_INPUT = (IntegrityError, DataError)


def _outage(exc: BaseException) -> bool:
    if isinstance(exc, OSError | TimeoutError | ConnectionError):
        return True
    if isinstance(exc, PoolTimeoutError | OperationalError | InterfaceError | DisconnectionError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, DBAPIError) and exc.statement is None and not isinstance(exc, BAD_INPUT):
        return True  # no statement: it failed while connecting (refused, not accepting, ...)
    sqlstate = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
    if isinstance(sqlstate, str) and (
        sqlstate.startswith(_RETRYABLE_SQLSTATE_PREFIXES) or sqlstate in _RETRYABLE_SQLSTATES
    ):
        return True
    if type(exc).__module__.startswith("asyncpg") and type(exc).__name__ in _ASYNCPG_OUTAGES:
        return True
    if isinstance(exc, DBAPIError):  # e.g. SQLite's "database is locked"
        text = str(exc.orig).lower()
        return "locked" in text or "lock timeout" in text
    return False


_ASYNCPG_OUTAGES = {
    "CannotConnectNowError",
    "ConnectionDoesNotExistError",
    "ConnectionFailureError",
    "InterfaceError",
    "InternalClientError",
    "PostgresConnectionError",
    "TooManyConnectionsError",
    "LockNotAvailableError",
    "QueryCanceledError",
    "DeadlockDetectedError",
    "SerializationError",
}
