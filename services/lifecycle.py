"""Things that happen to an item whoever triggers them: refreshing its cards, closing it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.views import View, view_to_dict
from services import cards, results
from storage.channel_languages import ChannelLanguageRepository
from storage.items import ItemRepository, PublicationRepository
from storage.ledger import AuditLog
from storage.models import Item, Publication
from storage.outbox import OutboxRepository


async def request_refresh(session: AsyncSession, item: Item, due_at: datetime) -> None:
    """Queue a re-render of every message showing the item (coalesced per message)."""
    outbox = OutboxRepository(session)
    for pub in await PublicationRepository(session).for_item(item.id):
        await outbox.refresh(
            publication_id=pub.id, platform=pub.platform, channel_id=pub.channel_id, due_at=due_at
        )


async def render_publication(session: AsyncSession, pub: Publication) -> View | None:
    """The current card for a published item (used by the outbox worker for refreshes)."""
    item = await ItemRepository(session).get(pub.item_id)
    if item is None:
        return None
    language = await ChannelLanguageRepository(session).of(pub.platform, pub.channel_id)
    return cards.public_card(item, await results.compute(session, item, groups=False), language)


async def close_item(session: AsyncSession, item: Item, actor: str, now: datetime) -> bool:
    """Close an open item, update its cards and post results where it was published.

    Returns False when the item was already closed (by someone else, or by the scheduler).
    """
    if not await ItemRepository(session).close(item, now):
        return False
    await AuditLog(session).record(actor, "item.close", item.short_id, now)
    summary = await results.compute(session, item, groups=False)
    outbox = OutboxRepository(session)
    languages = ChannelLanguageRepository(session)
    for pub in await PublicationRepository(session).for_item(item.id):
        language = await languages.of(pub.platform, pub.channel_id)
        card = cards.public_results_card(item, summary, language)
        await outbox.refresh(
            publication_id=pub.id, platform=pub.platform, channel_id=pub.channel_id, due_at=now
        )
        await outbox.send(
            platform=pub.platform,
            channel_id=pub.channel_id,
            thread_id=pub.thread_id,
            reply_to=pub.message_id,
            view=view_to_dict(card),
            at=now,
        )
    return True


async def close_due_items(session: AsyncSession, now: datetime) -> list[str]:
    """Close every item past its deadline, including those that passed while we were down."""
    closed = []
    for item in await ItemRepository(session).due_for_closing(now):
        if await close_item(session, item, "system:scheduler", now):
            closed.append(item.short_id)
    return closed


def refresh_due(now: datetime, interval: float) -> datetime:
    return now + timedelta(seconds=interval)
