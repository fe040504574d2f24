"""Dashboard accounts: the policy team's email + password sign-in records."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, delete, func, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage import dialect
from storage.models import DASHBOARD_ROLES, DashboardUser, SignInCounter, UTCDateTime


class AccountExists(Exception):
    """An account with this email address already exists."""


def normalise_email(email: str) -> str:
    """Emails are compared and stored lower-cased, without surrounding whitespace."""
    return email.strip().lower()


class AccountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, email: str, password_hash: str, role: str, at: datetime) -> DashboardUser:
        """Create an account; raises AccountExists when the email is taken."""
        if role not in DASHBOARD_ROLES:
            raise ValueError(f"unknown role {role!r}")
        address = normalise_email(email)
        if await self.by_email(address) is not None:
            raise AccountExists(address)
        user = DashboardUser(email=address, password_hash=password_hash, role=role, created_at=at)
        try:
            async with self.session.begin_nested():
                self.session.add(user)
                await self.session.flush()
        except IntegrityError as exc:  # a concurrent add won the race
            raise AccountExists(address) from exc
        return user

    async def by_email(self, email: str) -> DashboardUser | None:
        query = select(DashboardUser).where(DashboardUser.email == normalise_email(email))
        return (await self.session.execute(query)).scalar_one_or_none()

    async def by_id(self, user_id: int) -> DashboardUser | None:
        return await self.session.get(DashboardUser, user_id)

    async def list(self) -> Sequence[DashboardUser]:
        query = select(DashboardUser).order_by(DashboardUser.email)
        return (await self.session.execute(query)).scalars().all()

    async def count(self) -> int:
        result = await self.session.execute(select(func.count(DashboardUser.id)))
        return int(result.scalar_one())

    async def count_with_role(self, role: str) -> int:
        query = select(func.count(DashboardUser.id)).where(DashboardUser.role == role)
        return int((await self.session.execute(query)).scalar_one())

    async def remove(self, user: DashboardUser) -> None:
        await self.session.delete(user)
        await self.session.flush()

    async def set_password(self, user: DashboardUser, password_hash: str) -> None:
        user.password_hash = password_hash
        await self.session.flush()

    async def signed_in(self, user: DashboardUser, at: datetime) -> None:
        user.last_sign_in_at = at
        await self.session.flush()

    async def end_sessions(self, user: DashboardUser) -> None:
        """Invalidate every session cookie issued so far for ``user`` (signing out)."""
        await self.session.execute(
            update(DashboardUser)
            .where(DashboardUser.id == user.id)
            .values(session_generation=DashboardUser.session_generation + 1)
        )
        await self.session.refresh(user, ["session_generation"])


class SignInCounters:
    """Sign-in attempts per limiter key, shared by every worker through the database.

    Each count is one atomic upsert returning the new number (the row is locked while it
    changes), so of any number of simultaneous attempts exactly one sees each number.
    """

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def count(self, key: str, now: datetime, cutoff: datetime) -> int:
        """Count one attempt under ``key``; the attempts in its window so far, this one included.

        A window older than ``cutoff`` starts again at ``now``.
        """
        table = SignInCounter.__table__
        stale = table.c.since <= cutoff
        statement = (
            dialect.insert(self.session, table)
            .values(key=key, attempts=1, since=now)
            .on_conflict_do_update(
                index_elements=[table.c.key],
                set_={
                    "attempts": case((stale, 1), else_=table.c.attempts + 1),
                    "since": case((stale, literal(now, UTCDateTime())), else_=table.c.since),
                },
            )
            .returning(table.c.attempts)
        )
        return int((await self.session.execute(statement)).scalar_one())

    async def uncount(self, key: str) -> None:
        """Take one attempt back (a successful sign-in does not count against an address)."""
        await self.session.execute(
            update(SignInCounter)
            .where(SignInCounter.key == key, SignInCounter.attempts > 0)
            .values(attempts=SignInCounter.attempts - 1)
        )

    async def reset(self, key: str) -> None:
        await self.session.execute(delete(SignInCounter).where(SignInCounter.key == key))

    async def prune(self, cutoff: datetime) -> None:
        """Remove windows that started at or before ``cutoff`` (they no longer count)."""
        await self.session.execute(delete(SignInCounter).where(SignInCounter.since <= cutoff))
