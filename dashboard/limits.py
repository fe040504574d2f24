"""The dashboard's sign-in limiter, in the database so every worker shares the count.

Each attempt is counted (one atomic upsert, committed) *before* its password is checked, so
simultaneous guesses cannot all slip past the check: the sixth of forty sees six.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime, timedelta

from storage.accounts import SignInCounters
from storage.db import Database

MAX_ATTEMPTS = 5
WINDOW = timedelta(minutes=15)


class SignInLimiter:
    """At most ``limit`` attempts per key in a window of ``window`` from the first one.

    Keys are keyed digests (no addresses or emails in the table). A successful sign-in takes its
    attempt back and clears the email's count; failed and refused attempts stay counted.
    """

    def __init__(
        self, db: Database, secret: bytes, limit: int = MAX_ATTEMPTS, window: timedelta = WINDOW
    ) -> None:
        self.db = db
        self._secret = secret
        self.limit = limit
        self.window = window

    def key(self, kind: str, value: str) -> str:
        message = f"sign-in|{kind}|{value}".encode("utf-8", "surrogatepass")
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    async def attempt(self, keys: Sequence[str], now: datetime) -> bool:
        """Count an attempt under every key; whether it may go on to the password check."""
        cutoff = now - self.window
        async with self.db.transaction() as session:
            counters = SignInCounters(session)
            counts = [await counters.count(key, now, cutoff) for key in sorted(keys)]
        return max(counts) <= self.limit

    async def succeeded(self, address: str, email: str, now: datetime) -> None:
        """Take the attempt back, clear the email's count, and drop expired windows."""
        async with self.db.transaction() as session:
            counters = SignInCounters(session)
            await counters.uncount(address)
            await counters.reset(email)
            await counters.prune(now - self.window)
