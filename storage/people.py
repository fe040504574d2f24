"""Participants (pseudonymous citizens) and role grants (staff)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import insert, rowcount
from storage.models import Participant, RoleGrant


def pseudonym(secret_key: str, platform: str, user_id: str) -> str:
    """HMAC-SHA256(secret, "platform:user_id") as hex: stable, not reversible without the key."""
    message = f"{platform}:{user_id}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


class ParticipantRepository:
    def __init__(self, session: AsyncSession, secret_key: str) -> None:
        self.session = session
        self.secret_key = secret_key

    async def ensure(self, platform: str, user_id: str, at: datetime) -> Participant:
        """The participant for this platform user, created on first contact (race-safe)."""
        key = pseudonym(self.secret_key, platform, user_id)
        await self.session.execute(
            insert(self.session, Participant)
            .values(pseudonym=key, platform=platform, platform_user_id=user_id, created_at=at)
            .on_conflict_do_nothing(index_elements=["pseudonym"])
        )
        result = await self.session.execute(select(Participant).where(Participant.pseudonym == key))
        return result.scalar_one()

    async def find(self, platform: str, user_id: str) -> Participant | None:
        key = pseudonym(self.secret_key, platform, user_id)
        result = await self.session.execute(select(Participant).where(Participant.pseudonym == key))
        return result.scalar_one_or_none()


class RoleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def roles_of(self, subject: str) -> set[str]:
        query = select(RoleGrant.role).where(RoleGrant.subject == subject)
        return set((await self.session.execute(query)).scalars().all())

    async def grant(self, subject: str, role: str, by: str, at: datetime) -> bool:
        """Grant a role; False when the subject already had it."""
        result = await self.session.execute(
            insert(self.session, RoleGrant)
            .values(subject=subject, role=role, granted_by=by, granted_at=at)
            .on_conflict_do_nothing(index_elements=["subject", "role"])
        )
        return bool(rowcount(result))

    async def revoke(self, subject: str, role: str) -> bool:
        result = await self.session.execute(
            delete(RoleGrant).where(RoleGrant.subject == subject, RoleGrant.role == role)
        )
        return bool(rowcount(result))

    async def list(self) -> Sequence[RoleGrant]:
        query = select(RoleGrant).order_by(RoleGrant.subject, RoleGrant.role)
        return (await self.session.execute(query)).scalars().all()
