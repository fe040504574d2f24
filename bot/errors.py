"""Errors with a meaning the core acts on."""

from __future__ import annotations


class UserError(Exception):
    """Something the person got wrong: the message goes back to them, nothing is written."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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
