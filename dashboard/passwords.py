"""Password hashing for dashboard accounts (argon2id with argon2-cffi's defaults)."""

from __future__ import annotations

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
