"""python-telegram-bot errors -> :class:`bot.errors.DeliveryError` the outbox acts on."""

from __future__ import annotations

import datetime as dt
import warnings

from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.warnings import PTBDeprecationWarning

from bot.errors import DeliveryError
from bot.logs import redact


def ignore_retry_after_warning() -> None:
    """Silence PTB 22's warning, raised with every RetryAfter when ``PTB_TIMEDELTA`` is unset,
    that ``retry_after`` will become a timedelta: we read both forms. Called when the adapter
    starts, never at import (warning filters are process-wide; adding one twice is a no-op)."""
    warnings.filterwarnings(
        "ignore", message=r".*`retry_after` will be of type", category=PTBDeprecationWarning
    )


def retry_after_seconds(exc: RetryAfter) -> float:
    """``RetryAfter.retry_after``: an int, or a timedelta when ``PTB_TIMEDELTA`` is set."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    if isinstance(value, dt.timedelta):
        return max(0.0, value.total_seconds())
    return max(0.0, float(value))


def is_not_modified(exc: TelegramError) -> bool:
    """editMessageText with identical content: the message already shows what we want."""
    return isinstance(exc, BadRequest) and "not modified" in exc.message.lower()


def describe(exc: TelegramError) -> str:
    """A log- and database-safe description (Telegram's words, never a token)."""
    return redact(f"telegram {type(exc).__name__}: {exc.message}")[:300]


def delivery_error(exc: TelegramError, *, posting: bool = False) -> DeliveryError:
    """How the outbox should treat a failed send or edit.

    * 429 (RetryAfter): wait as long as Telegram asks.
    * 403 (Forbidden: the person blocked the bot, the bot was removed from the group) and
      400 (BadRequest: chat not found, message to edit not found, bad markup) and a group that
      became a supergroup (ChatMigrated: the stored chat id is dead): it will never work.
    * Network errors, timeouts, 5xx, conflicts, a token Telegram rejects right now: transient,
      retried with backoff (a corrected token or a recovered API delivers the backlog).
    * A timed-out sendMessage (``posting``) may well have posted the message: the Bot API has
      no idempotency key and no way to list a chat's messages, so resending would risk a
      second card. It is *uncertain*: the outbox never resends it by itself (see
      :mod:`bot.delivery`). A pool timeout never left this process, so it is retried.
    """
    message, code = describe(exc), type(exc).__name__
    if posting and isinstance(exc, TimedOut) and "pool timeout" not in exc.message.lower():
        return DeliveryError(message, uncertain=True, code=code)
    if isinstance(exc, RetryAfter):
        return DeliveryError(message, retry_after=retry_after_seconds(exc), code=code)
    if isinstance(exc, Forbidden | BadRequest | ChatMigrated):
        return DeliveryError(message, permanent=True, code=code)
    return DeliveryError(message, code=code)
