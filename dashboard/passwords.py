"""Password hashing for dashboard accounts (argon2id with argon2-cffi's defaults).

Hashing costs tens of milliseconds of CPU and 64 MiB: :class:`PasswordChecker` runs it on a
small thread pool (argon2-cffi releases the GIL), never on the event loop.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
MAX_LENGTH = 256

_hasher = PasswordHasher()
#: Verified against when the email is unknown, so both paths cost the same.
_DUMMY_HASH = _hasher.hash("townhall-dummy-password-never-valid")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """True only when ``password`` matches; False on a mismatch or an invalid hash."""
    try:
        return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    except Exception:  # malformed input of any other sort is simply not a match
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with older parameters and should be replaced."""
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except Exception:
        return True


def verify_dummy(password: str) -> None:
    """Spend the same time as a real check when no account matches the email."""
    verify_password(_DUMMY_HASH, password)


def password_problem(password: str) -> str | None:
    """Why the password is not acceptable, or None when it is."""
    if not password.strip():
        return "Enter a password"
    if len(password) < MIN_LENGTH:
        return f"Password must be {MIN_LENGTH} characters or more"
    if len(password) > MAX_LENGTH:
        return f"Password must be {MAX_LENGTH} characters or fewer"
    return None


class PasswordChecker:
    """Verifies and hashes passwords off the event loop, at most ``workers`` at a time.

    Callers beyond that wait (cancellably) on :attr:`slots` rather than piling into the pool.
    """

    def __init__(self, workers: int = 2) -> None:
        self.workers = workers
        self.slots = asyncio.Semaphore(workers)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="townhall-argon2")

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """Like :func:`verify_password`; an unknown account (None) costs the same and fails."""
        async with self.slots:
            loop = asyncio.get_running_loop()
            if stored_hash is None:
                await loop.run_in_executor(self._pool, verify_dummy, password)
                return False
            return await loop.run_in_executor(self._pool, verify_password, stored_hash, password)

    async def hash(self, password: str) -> str:
        async with self.slots:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, hash_password, password)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
