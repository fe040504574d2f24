"""Leases: jobs that exactly one worker may run at a time, moved to a survivor on expiry.

A worker holds a lease by renewing it before ``expires_at``; a worker that dies (kill -9, a
lost machine) stops renewing and another takes the lease once it has expired. Expiry is
compared with the workers' clocks, so workers on several machines need synchronised clocks
(NTP), as every other deadline in Townhall does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import case, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import insert
from storage.models import Lease


class LeaseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(
        self, names: Sequence[str], holder: str, now: datetime, ttl: timedelta
    ) -> set[str]:
        """Take or renew each lease in ``names`` that is free, expired or already ours, until
        ``now + ttl``; return the names ``holder`` holds afterwards."""
        for name in names:
            stmt = insert(self.session, Lease).values(
                name=name, holder=holder, expires_at=now + ttl, acquired_at=now
            )
            taken_over = Lease.holder != stmt.excluded.holder
            await self.session.execute(
                stmt.on_conflict_do_update(
                    index_elements=["name"],
                    set_={
                        "holder": stmt.excluded.holder,
                        "expires_at": stmt.excluded.expires_at,
                        "acquired_at": case(
                            (taken_over, stmt.excluded.acquired_at), else_=Lease.acquired_at
                        ),
                    },
                    where=(Lease.holder == holder) | (Lease.expires_at < now),
                )
            )
        held = await self.session.execute(
            select(Lease.name).where(Lease.holder == holder, Lease.name.in_(names))
        )
        return set(held.scalars().all())

    async def release(self, names: Sequence[str], holder: str) -> None:
        """Give leases up at once (a clean stop), so a survivor need not wait for expiry."""
        await self.session.execute(
            delete(Lease).where(Lease.holder == holder, Lease.name.in_(names))
        )

    async def holders(self) -> dict[str, tuple[str, datetime]]:
        """Every lease: name -> (holder, expires_at)."""
        rows = await self.session.execute(select(Lease.name, Lease.holder, Lease.expires_at))
        return {name: (holder, expires) for name, holder, expires in rows.all()}

    async def live(self, prefix: str, now: datetime) -> int:
        """How many leases named ``prefix…`` are unexpired (e.g. the workers' presence)."""
        count = await self.session.execute(
            select(func.count()).where(Lease.name.startswith(prefix), Lease.expires_at >= now)
        )
        return int(count.scalar_one())

    async def forget_expired(self, prefix: str, before: datetime) -> None:
        """Delete leases named ``prefix…`` that expired before ``before`` (dead workers')."""
        await self.session.execute(
            delete(Lease).where(Lease.name.startswith(prefix), Lease.expires_at < before)
        )
