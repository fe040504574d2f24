"""Vote counters (kept by triggers on ``votes``, see migration 0009) and their recount check."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Item, Option, OptionTally, PlatformTally, Vote


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One counter that differs from a full recount of the votes."""

    item: str  # short id
    counter: str  # "option <position>" or "platform <name>"
    stored: int
    recounted: int


class TallyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_option(self, item_id: int) -> dict[int, int]:
        """Option id -> votes, from the counters (one indexed read)."""
        rows = await self.session.execute(
            select(OptionTally.option_id, OptionTally.votes).where(OptionTally.item_id == item_id)
        )
        return {option_id: int(n) for option_id, n in rows.all()}

    async def by_platform(self, item_id: int) -> dict[str, int]:
        """Platform -> people who voted, from the counters (zero counts left out)."""
        rows = await self.session.execute(
            select(PlatformTally.platform, PlatformTally.participants).where(
                PlatformTally.item_id == item_id, PlatformTally.participants != 0
            )
        )
        return {platform: int(n) for platform, n in rows.all()}

    async def mismatches(self) -> list[Mismatch]:
        """Every counter that differs from a full recount (slow: scans all votes)."""
        found: list[Mismatch] = []
        stored = {
            (i, o): int(n)
            for i, o, n in (
                await self.session.execute(
                    select(OptionTally.item_id, OptionTally.option_id, OptionTally.votes)
                )
            ).all()
        }
        recount = {
            (i, o): int(n)
            for i, o, n in (
                await self.session.execute(
                    select(Vote.item_id, Vote.option_id, func.count()).group_by(
                        Vote.item_id, Vote.option_id
                    )
                )
            ).all()
        }
        names = await self._names()
        positions = {
            i: p for i, p in (await self.session.execute(select(Option.id, Option.position))).all()
        }
        for key in sorted(set(stored) | set(recount)):
            have, want = stored.get(key, 0), recount.get(key, 0)
            if have != want:
                found.append(
                    Mismatch(names.get(key[0], "?"), f"option {positions.get(key[1])}", have, want)
                )
        stored_p = {
            (i, p): int(n)
            for i, p, n in (
                await self.session.execute(
                    select(
                        PlatformTally.item_id, PlatformTally.platform, PlatformTally.participants
                    )
                )
            ).all()
        }
        recount_p = {
            (i, p): int(n)
            for i, p, n in (
                await self.session.execute(
                    select(
                        Vote.item_id, Vote.platform, func.count(func.distinct(Vote.participant_id))
                    ).group_by(Vote.item_id, Vote.platform)
                )
            ).all()
        }
        for key_p in sorted(set(stored_p) | set(recount_p)):
            have, want = stored_p.get(key_p, 0), recount_p.get(key_p, 0)
            if have != want:
                found.append(Mismatch(names.get(key_p[0], "?"), f"platform {key_p[1]}", have, want))
        return found

    async def rebuild(self) -> None:
        """Replace every counter with a full recount (``townhall doctor --fix``)."""
        await self.session.execute(delete(OptionTally))
        await self.session.execute(delete(PlatformTally))
        await self.session.execute(
            insert(OptionTally).from_select(
                ["item_id", "option_id", "votes"],
                select(Vote.item_id, Vote.option_id, func.count()).group_by(
                    Vote.item_id, Vote.option_id
                ),
            )
        )
        await self.session.execute(
            insert(PlatformTally).from_select(
                ["item_id", "platform", "participants"],
                select(
                    Vote.item_id, Vote.platform, func.count(func.distinct(Vote.participant_id))
                ).group_by(Vote.item_id, Vote.platform),
            )
        )

    async def _names(self) -> dict[int, str]:
        return {i: s for i, s in (await self.session.execute(select(Item.id, Item.short_id))).all()}
