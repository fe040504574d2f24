"""Topic subscriptions and STOP: who asked to hear about which consultations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.consultations import Recipient, reachable
from storage.dialect import insert, rowcount
from storage.models import MessageOptOut, Participant, Subscription


class SubscriptionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def subscribe(self, participant: Participant, topic: str, at: datetime) -> bool:
        """Subscribe (and lift a STOP). False when already subscribed to the topic."""
        await self.session.execute(
            delete(MessageOptOut).where(MessageOptOut.participant_id == participant.id)
        )
        result = await self.session.execute(
            insert(self.session, Subscription)
            .values(participant_id=participant.id, topic=topic, created_at=at)
            .on_conflict_do_nothing(index_elements=["participant_id", "topic"])
        )
        return bool(rowcount(result))

    async def unsubscribe(self, participant: Participant, topic: str) -> bool:
        result = await self.session.execute(
            delete(Subscription).where(
                Subscription.participant_id == participant.id, Subscription.topic == topic
            )
        )
        return bool(rowcount(result))

    async def stop(self, participant: Participant, at: datetime) -> int:
        """Every subscription dropped and no unasked-for messages; returns the topics dropped."""
        result = await self.session.execute(
            delete(Subscription).where(Subscription.participant_id == participant.id)
        )
        await self.session.execute(
            insert(self.session, MessageOptOut)
            .values(participant_id=participant.id, created_at=at)
            .on_conflict_do_nothing(index_elements=["participant_id"])
        )
        return rowcount(result)

    async def topics_of(self, participant: Participant) -> list[str]:
        query = (
            select(Subscription.topic)
            .where(Subscription.participant_id == participant.id)
            .order_by(Subscription.topic)
        )
        return list((await self.session.execute(query)).scalars())

    async def stopped(self, participant: Participant) -> bool:
        found = await self.session.scalar(
            select(exists().where(MessageOptOut.participant_id == participant.id))
        )
        return bool(found)

    async def subscribers(self, topics: Sequence[str]) -> list[Recipient]:
        """Reachable people subscribed to any of ``topics``, not stopped, once each."""
        if not topics:
            return []
        subscribed = select(Subscription.participant_id).where(Subscription.topic.in_(topics))
        return await reachable(self.session, Participant.id.in_(subscribed))

    async def known_topics(self) -> list[str]:
        """Topics anyone is subscribed to (for ``topics``), alphabetically."""
        query = select(Subscription.topic).distinct().order_by(Subscription.topic)
        return list((await self.session.execute(query)).scalars())
