"""Items (polls, scales, open questions), their options and publications."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from storage.db import WROTE_DEADLINE, wrote
from storage.dialect import rowcount
from storage.models import Item, Option, Publication

SHORT_ID_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i: easy to read aloud
SHORT_ID_LENGTH = 6


def new_short_id() -> str:
    return "".join(secrets.choice(SHORT_ID_ALPHABET) for _ in range(SHORT_ID_LENGTH))


@dataclass(frozen=True, slots=True)
class NewItem:
    kind: str
    question: str
    options: Sequence[str]
    created_by: str
    created_at: datetime
    closes_at: datetime | None = None
    results_visibility: str = "live"
    consultation_id: int | None = None
    moderation: str = "strict"
    notify_authors: bool = True
    #: The question and options in Welsh (issue 18); options_cy empty or one per option.
    question_cy: str | None = None
    options_cy: Sequence[str] = ()


#: An item with its options in one round trip (every vote batch and web chat page reads one):
#: built once, so SQLAlchemy does not rebuild the loader options and their cache key per call.
_BY_SHORT_ID = (
    select(Item).where(Item.short_id == bindparam("short_id")).options(joinedload(Item.options))
)


class ItemRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, new: NewItem) -> Item:
        if new.closes_at is not None:
            wrote(self.session, WROTE_DEADLINE)
        short_id = new_short_id()
        while await self.by_short_id(short_id) is not None:  # pragma: no cover - 1 in 887M
            short_id = new_short_id()
        item = Item(
            short_id=short_id,
            kind=new.kind,
            question=new.question,
            question_cy=new.question_cy,
            status="open",
            results_visibility=new.results_visibility,
            closes_at=new.closes_at,
            created_at=new.created_at,
            created_by=new.created_by,
            consultation_id=new.consultation_id,
            moderation=new.moderation,
            notify_authors=new.notify_authors,
            options=[
                Option(
                    position=i,
                    label=label,
                    label_cy=new.options_cy[i - 1] if new.options_cy else None,
                )
                for i, label in enumerate(new.options, 1)
            ],
        )
        self.session.add(item)
        await self.session.flush()
        return item

    async def by_short_id(self, short_id: str) -> Item | None:
        result = await self.session.execute(_BY_SHORT_ID, {"short_id": short_id.strip().lower()})
        return result.unique().scalar_one_or_none()

    async def list(self, *, status: str | None = None, limit: int = 50) -> Sequence[Item]:
        query = select(Item).order_by(Item.created_at.desc(), Item.id.desc()).limit(limit)
        if status:
            query = query.where(Item.status == status)
        return (await self.session.execute(query)).scalars().all()

    async def all_oldest_first(self) -> Sequence[Item]:
        query = select(Item).order_by(Item.created_at, Item.id)
        return (await self.session.execute(query)).scalars().all()

    async def get(self, item_id: int) -> Item | None:
        return await self.session.get(Item, item_id)

    async def count(self) -> int:
        return int(await self.session.scalar(select(func.count(Item.id))) or 0)

    async def next_deadline(self) -> datetime | None:
        """The nearest closing time of an open item, if any has one."""
        query = select(func.min(Item.closes_at)).where(
            Item.status == "open", Item.closes_at.is_not(None)
        )
        return await self.session.scalar(query)

    async def close(self, item: Item, at: datetime) -> bool:
        """Close an open item; False when someone else closed it first."""
        result = await self.session.execute(
            update(Item)
            .where(Item.id == item.id, Item.status == "open")
            .values(status="closed", closed_at=at)
            .execution_options(synchronize_session=False)
        )
        if rowcount(result):
            item.status, item.closed_at = "closed", at
            return True
        return False

    async def due_for_closing(self, now: datetime, limit: int = 100) -> Sequence[Item]:
        """Open items past their deadline, locked so that only one worker closes each."""
        query = (
            select(Item)
            .where(Item.status == "open", Item.closes_at.is_not(None), Item.closes_at <= now)
            .order_by(Item.closes_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.execute(query)).scalars().all()

    async def option_by_position(self, item: Item, position: int) -> Option | None:
        for option in item.options:
            if option.position == position:
                return option
        return None


class PublicationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        item: Item,
        platform: str,
        channel_id: str,
        thread_id: str | None,
        at: datetime,
        *,
        private: bool = False,
    ) -> Publication:
        pub = Publication(
            item_id=item.id,
            platform=platform,
            channel_id=channel_id,
            thread_id=thread_id,
            created_at=at,
            private=private,
        )
        self.session.add(pub)
        await self.session.flush()
        return pub

    async def get(self, publication_id: int) -> Publication | None:
        return await self.session.get(Publication, publication_id)

    async def for_item(self, item_id: int) -> Sequence[Publication]:
        query = select(Publication).where(Publication.item_id == item_id).order_by(Publication.id)
        return (await self.session.execute(query)).scalars().all()

    async def find_by_message(
        self, platform: str, channel_id: str, message_id: str
    ) -> Publication | None:
        """The publication shown as this message (or whose thread this message id roots)."""
        query = (
            select(Publication)
            .where(
                Publication.platform == platform,
                Publication.channel_id == channel_id,
                Publication.message_id == message_id,
            )
            .limit(1)
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def set_message_id(
        self, publication_id: int, message_id: str, *, channel_name: str | None = None
    ) -> None:
        values: dict[str, str] = {"message_id": message_id}
        if channel_name:
            values["channel_name"] = channel_name[:200]
        await self.session.execute(
            update(Publication)
            .where(Publication.id == publication_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )

    async def channels(self) -> Sequence[tuple[str, str]]:
        """Every (platform, channel) the bot has published to: where it can publish again."""
        query = (
            select(Publication.platform, Publication.channel_id)
            .group_by(Publication.platform, Publication.channel_id)
            .order_by(func.max(Publication.id).desc())
        )
        return [(p, c) for p, c in (await self.session.execute(query)).all()]
