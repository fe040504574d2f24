"""Deadlines as people write them: ``2d``, ``6h``, ``90m``, ``1w`` or an ISO 8601 time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from bot.errors import UserError

_DURATION = re.compile(r"^(\d{1,4})\s*([mhdw])$", re.IGNORECASE)
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
MAX_AHEAD = timedelta(days=366)


def parse_deadline(text: str, now: datetime) -> datetime:
    """A future UTC deadline; a clear :class:`UserError` for anything else."""
    text = text.strip()
    match = _DURATION.match(text)
    if match:
        amount, unit = int(match.group(1)), match.group(2).lower()
        if amount == 0:
            raise UserError("--closes must be in the future.")
        when = now + timedelta(**{_UNITS[unit]: amount})
    else:
        try:
            when = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
        except ValueError:
            raise UserError(
                f"I don't understand --closes {text!r}: use 30m, 6h, 2d, 1w or a time such as "
                "2026-12-01T12:00Z."
            ) from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        when = when.astimezone(UTC)
        if when <= now:
            raise UserError("--closes must be in the future.")
    if when - now > MAX_AHEAD:
        raise UserError("--closes can be at most a year ahead.")
    return when


def format_deadline(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
