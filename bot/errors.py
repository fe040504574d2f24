"""Errors with a meaning the core acts on."""

from __future__ import annotations

from collections.abc import Callable


class UserError(Exception):
    """Something the person got wrong: the message goes back to them, nothing is written.

    ``message`` is said as it is, or, with ``values``, is a catalogue message (``N_``) with
    ``{placeholders}``: the dispatcher says it in the person's language (:meth:`said`), where
    the code raising it has no translator (the command grammar). ``.message`` is the English.
    """

    def __init__(self, message: str, **values: object) -> None:
        english = message.format(**values) if values else message
        super().__init__(english)
        self.message = english
        self.template = message
        self.values = values

    def said(self, t: Callable[..., str]) -> str:
        """The message in ``t``'s language (a message already translated comes back as is)."""
        return t(self.template, **self.values) if self.values else self.message


class UsageError(UserError):
    """A command was malformed: the message includes how to use it."""


class DeliveryError(Exception):
    """An adapter could not deliver a message.

    ``retry_after`` set: the platform asked us to wait (rate limit) — try again then.
    ``permanent``: it will never work (blocked by the user, channel gone) — record and stop.
    ``uncertain``: the request may have taken effect (it timed out after it was sent) and the
    platform offers no way to make a resend idempotent — never resent blindly.
    Otherwise: a transient failure, retried with backoff.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        permanent: bool = False,
        uncertain: bool = False,
        code: str = "",
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent
        self.uncertain = uncertain
        #: The platform's own error code or class (a metrics label: short, no ids).
        self.code = code[:40]
