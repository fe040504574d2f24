"""Facts about this installation kept in the database (the secret key's fingerprint)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.dialect import insert
from storage.models import InstanceSetting


async def is_migrated(db: Database) -> bool:
    """Whether the instance settings table exists (migrations may be off on start)."""
    async with db.engine.connect() as conn:
        return await conn.run_sync(
            lambda sync: inspect(sync).has_table(InstanceSetting.__tablename__)
        )


class InstanceSettings:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, name: str) -> str | None:
        row = await self.session.get(InstanceSetting, name)
        return row.value if row is not None else None

    async def set_if_missing(self, name: str, value: str, at: datetime) -> str:
        """Record ``value`` unless one is there already (several workers may start at once);
        return the value now stored."""
        await self.session.execute(
            insert(self.session, InstanceSetting)
            .values(name=name, value=value, updated_at=at)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        stored = await self.session.execute(
            select(InstanceSetting.value).where(InstanceSetting.name == name)
        )
        return str(stored.scalar_one())

    async def replace(self, name: str, value: str, at: datetime) -> str | None:
        """Store ``value``; return the previous one (None when there was none)."""
        row = await self.session.get(InstanceSetting, name, with_for_update=True)
        if row is None:
            self.session.add(InstanceSetting(name=name, value=value, updated_at=at))
            return None
        previous = row.value
        row.value, row.updated_at = value, at
        return previous
