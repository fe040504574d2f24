"""The typed context every handler receives: the event, the database and a way to answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.events import Event
from bot.grammar import ParsedCommand
from bot.i18n import Translator, identity_translator, language_of
from bot.outcomes import Result
from bot.views import Card, Notice, View, view_to_dict
from storage.channel_languages import ChannelLanguageRepository
from storage.consultations import ConsultationRepository
from storage.items import ItemRepository, PublicationRepository
from storage.ledger import AuditLog
from storage.models import Item, Participant
from storage.moderation import ModerationRepository, PendingRepository
from storage.outbox import OutboxRepository
from storage.people import ParticipantRepository, PrivacyRepository, RoleRepository
from storage.profiles import ProfileRepository
from storage.responses import AnswerRepository, VoteRepository
from storage.statements import StatementRepository
from storage.subscriptions import SubscriptionRepository
from storage.vote_batches import VoteBatchRepository

Clock = Callable[[], datetime]
__all__ = ["Clock", "Context", "Translator", "identity_translator", "utc_now"]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Context:
    """Handed to each handler; collects what it wants said, delivered after the commit."""

    event: Event
    session: AsyncSession
    settings: Settings
    clock: Clock = utc_now
    t: Translator = identity_translator
    command: ParsedCommand | None = None
    #: Private answers to the person who acted, delivered by the adapter as its acknowledgement.
    notices: list[View] = field(default_factory=list)
    #: What the handler did, typed, for callers such as the dashboard (``Outcome.results``).
    results: list[Result] = field(default_factory=list)
    _roles: set[str] | None = None

    # -- repositories, one small object per aggregate ------------------------------------
    @cached_property
    def items(self) -> ItemRepository:
        return ItemRepository(self.session)

    @cached_property
    def publications(self) -> PublicationRepository:
        return PublicationRepository(self.session)

    @cached_property
    def votes(self) -> VoteRepository:
        return VoteRepository(self.session)

    @cached_property
    def vote_batches(self) -> VoteBatchRepository:
        """Votes written by net change, one statement per kind (a batch, or a batch of one)."""
        return VoteBatchRepository(self.session, self.settings.secret_key.get_secret_value())

    @cached_property
    def answers(self) -> AnswerRepository:
        return AnswerRepository(self.session)

    @cached_property
    def participants(self) -> ParticipantRepository:
        return ParticipantRepository(self.session, self.settings.secret_key.get_secret_value())

    @cached_property
    def role_grants(self) -> RoleRepository:
        return RoleRepository(self.session)

    @cached_property
    def audit(self) -> AuditLog:
        return AuditLog(self.session)

    @cached_property
    def outbox(self) -> OutboxRepository:
        return OutboxRepository(self.session)

    @cached_property
    def moderation(self) -> ModerationRepository:
        return ModerationRepository(self.session)

    @cached_property
    def pending(self) -> PendingRepository:
        """Votes and answers waiting for a person's consent."""
        return PendingRepository(self.session)

    @cached_property
    def privacy(self) -> PrivacyRepository:
        return PrivacyRepository(self.session)

    @cached_property
    def consultations(self) -> ConsultationRepository:
        return ConsultationRepository(self.session)

    @cached_property
    def subscriptions(self) -> SubscriptionRepository:
        return SubscriptionRepository(self.session)

    @cached_property
    def channel_languages(self) -> ChannelLanguageRepository:
        """Which language a channel's public cards are in (``townhall channel language``)."""
        return ChannelLanguageRepository(self.session)

    @cached_property
    def profiles(self) -> ProfileRepository:
        """Answers to "about you" questions (services/profile.py)."""
        return ProfileRepository(self.session)

    @cached_property
    def statements(self) -> StatementRepository:
        return StatementRepository(self.session)

    @property
    def language(self) -> str:
        """The language ``t`` speaks to the person who acted (``en``, ``cy``)."""
        return language_of(self.t)

    # -- who is acting -------------------------------------------------------------------
    async def roles(self) -> set[str]:
        if self._roles is None:
            subject = self.event.subject
            roles = set(self.event.actor.platform_roles)
            if subject in self.settings.policy_subjects:
                roles.add("policy")
            if subject in self.settings.moderator_subjects:
                roles.add("moderator")
            roles |= await self.role_grants.roles_of(subject)
            self._roles = roles
        return self._roles

    async def has_role(self, *roles: str) -> bool:
        mine = await self.roles()
        return "admin" in mine or any(role in mine for role in roles)

    async def participant(self) -> Participant:
        return await self.participants.ensure(
            self.event.platform, self.event.actor.user_id, self.clock()
        )

    async def record(self, action: str, target: str, **details: Any) -> None:
        """Write a privileged action to the audit log, in the same transaction."""
        await self.audit.record(self.event.subject, action, target, self.clock(), **details)

    # -- answering -----------------------------------------------------------------------
    def produced(self, result: Result) -> None:
        """Say what was done in a form a program can read (kept only if the commit succeeds)."""
        self.results.append(result)

    def notify(self, view: View | str) -> None:
        """Say something privately to the person who acted."""
        self.notices.append(Notice(view) if isinstance(view, str) else view)

    async def reply(self, view: View) -> None:
        """Post a message where the event happened; durable (outbox, same transaction)."""
        target = self.event.target
        await self.outbox.send(
            platform=self.event.platform,
            channel_id=target.channel_id,
            thread_id=target.thread_id,
            view=view_to_dict(view),
            at=self.clock(),
        )

    async def send_private(self, platform: str, user_id: str, view: View) -> None:
        """Message one person directly (durable: outbox, same transaction)."""
        await self.outbox.send(
            platform=platform,
            channel_id=user_id,
            view=view_to_dict(view),
            at=self.clock(),
            private=True,
        )

    @property
    def actor_label(self) -> str:
        """How a citizen appears in the audit log: never their raw platform id."""
        from storage.people import pseudonym

        key = pseudonym(
            self.settings.secret_key.get_secret_value(),
            self.event.platform,
            self.event.actor.user_id,
        )
        return f"participant:{key[:12]}"

    async def publish(self, item: Item, card: Card) -> None:
        """Show an item where the event happened and remember where it is shown."""
        target = self.event.target
        pub = await self.publications.add(
            item,
            self.event.platform,
            target.channel_id,
            target.thread_id,
            self.clock(),
            private=target.private,
        )
        await self.outbox.send(
            platform=self.event.platform,
            channel_id=target.channel_id,
            thread_id=target.thread_id,
            view=view_to_dict(card),
            at=self.clock(),
            publication_id=pub.id,
            requested_by=self.event.subject,  # told if it cannot be delivered
        )
