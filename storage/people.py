"""Participants (pseudonymous citizens) and role grants (staff)."""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, literal, or_, select, union, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import insert, rowcount
from storage.models import (
    Answer,
    AnswerTheme,
    ConsultationProgress,
    ErasedAnswer,
    Item,
    MessageOptOut,
    Option,
    Participant,
    PendingAction,
    ProfileAnswer,
    Report,
    RoleGrant,
    Statement,
    StatementVote,
    Subscription,
    UTCDateTime,
    Vote,
)
from storage.statements import StatementRepository


def pseudonym(secret_key: str, platform: str, user_id: str) -> str:
    """HMAC-SHA256(secret, "platform:user_id") as hex: stable, not reversible without the key."""
    mac = _keyed(secret_key).copy()  # the key's pads are derived once per key, not per call
    mac.update(f"{platform}:{user_id}".encode())
    return mac.hexdigest()


@functools.lru_cache(maxsize=8)
def _keyed(secret_key: str) -> hmac.HMAC:
    return hmac.new(secret_key.encode(), digestmod=hashlib.sha256)


class ParticipantRepository:
    def __init__(self, session: AsyncSession, secret_key: str) -> None:
        self.session = session
        self.secret_key = secret_key

    async def ensure(self, platform: str, user_id: str, at: datetime) -> Participant:
        """The participant for this platform user, created on first contact (race-safe)."""
        key = pseudonym(self.secret_key, platform, user_id)
        found = await self.session.execute(select(Participant).where(Participant.pseudonym == key))
        existing = found.scalar_one_or_none()
        if existing is not None:  # the common case on the vote path: one query
            return existing
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

    async def get(self, participant_id: int) -> Participant | None:
        return await self.session.get(Participant, participant_id)

    async def language_of(self, platform: str, user_id: str) -> str | None:
        """The language this person chose, if they did (one indexed lookup, no row created)."""
        key = pseudonym(self.secret_key, platform, user_id)
        query = select(Participant.language).where(Participant.pseudonym == key)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def choose_language(self, participant: Participant, language: str) -> None:
        participant.language = language
        await self.session.flush()


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

    async def subjects_with(self, role: str) -> list[str]:
        """Everyone granted ``role``, oldest grant first."""
        query = select(RoleGrant.subject).where(RoleGrant.role == role).order_by(RoleGrant.id)
        return list((await self.session.execute(query)).scalars().all())

    async def list(self) -> Sequence[RoleGrant]:
        query = select(RoleGrant).order_by(RoleGrant.subject, RoleGrant.role)
        return (await self.session.execute(query)).scalars().all()


class PrivacyRepository:
    """What is held about one person, their consent, and erasure."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def consent(self, participant: Participant, at: datetime) -> None:
        participant.consented_at = at
        await self.session.flush()

    async def held_about(self, participant: Participant) -> dict[str, list[dict[str, str]]]:
        votes = await self.session.execute(
            select(Item.short_id, Item.question, Option.label, Vote.created_at)
            .join(Item, Item.id == Vote.item_id)
            .join(Option, Option.id == Vote.option_id)
            .where(Vote.participant_id == participant.id)
            .order_by(Vote.created_at)
        )
        answers = await self.session.execute(
            select(
                Answer.id,
                Item.short_id,
                Item.question,
                Answer.text,
                Answer.status,
                Answer.created_at,
            )
            .join(Item, Item.id == Answer.item_id)
            .where(Answer.participant_id == participant.id)
            .order_by(Answer.created_at)
        )
        topics = await self.session.execute(
            select(Subscription.topic, Subscription.created_at)
            .where(Subscription.participant_id == participant.id)
            .order_by(Subscription.topic)
        )
        profile = await self.session.execute(
            select(ProfileAnswer.question, ProfileAnswer.value, ProfileAnswer.answered_at)
            .where(ProfileAnswer.participant_id == participant.id)
            .order_by(ProfileAnswer.id)
        )
        stopped = await self.session.scalar(
            select(MessageOptOut.created_at).where(MessageOptOut.participant_id == participant.id)
        )
        opinions = (
            await self.session.execute(
                select(Item.short_id, Statement.id, StatementVote.value, StatementVote.created_at)
                .join(Statement, Statement.id == StatementVote.statement_id)
                .join(Item, Item.id == StatementVote.item_id)
                .where(StatementVote.participant_id == participant.id)
                .order_by(StatementVote.created_at)
            )
        ).all()
        said = {1: "agree", -1: "disagree", 0: "pass"}
        return {
            "votes": [
                {"item": sid, "question": q, "choice": label, "at": at.isoformat()}
                for sid, q, label, at in votes.all()
            ],
            "answers": [
                {
                    "ref": f"A{aid}",
                    "item": sid,
                    "question": q,
                    "text": text,
                    "status": status,
                    "at": at.isoformat(),
                }
                for aid, sid, q, text, status, at in answers.all()
            ],
            "subscriptions": [{"topic": topic, "at": at.isoformat()} for topic, at in topics.all()],
            **({"stopped": [{"at": stopped.isoformat()}]} if stopped is not None else {}),
            # "About you" answers (None: preferred not to say), once there are any.
            **(
                {
                    "about_you": [
                        {"question": q, "answer": v or "(prefer not to say)", "at": at.isoformat()}
                        for q, v, at in about
                    ]
                }
                if (about := profile.all())
                else {}
            ),
            **(
                {
                    "statement_votes": [
                        {
                            "item": sid,
                            "statement": f"S{statement}",
                            "vote": said[value],
                            "at": at.isoformat(),
                        }
                        for sid, statement, value, at in opinions
                    ]
                }
                if opinions
                else {}
            ),
        }

    async def erase(self, participant: Participant, at: datetime | None = None) -> dict[str, Any]:
        """Delete the person and, by cascade, their votes, answers and reports.

        Each erased answer leaves a tombstone (its ref, item and when), so its ref is never
        handed out again and audit rows about it still point at it.
        Returns the counts and the ids of items whose tallies changed (nothing of the content).
        """
        vote_items = (
            (
                await self.session.execute(
                    select(Vote.item_id).where(Vote.participant_id == participant.id).distinct()
                )
            )
            .scalars()
            .all()
        )
        answer_items = (
            (
                await self.session.execute(
                    select(Answer.item_id).where(Answer.participant_id == participant.id).distinct()
                )
            )
            .scalars()
            .all()
        )
        votes = await self.session.execute(
            select(func.count(Vote.id)).where(Vote.participant_id == participant.id)
        )
        answers = await self.session.execute(
            select(func.count(Answer.id)).where(Answer.participant_id == participant.id)
        )
        opinions = await self.session.execute(
            select(func.count(StatementVote.id)).where(
                StatementVote.participant_id == participant.id
            )
        )
        counts = {
            "votes": int(votes.scalar_one()) + int(opinions.scalar_one()),
            "answers": int(answers.scalar_one()),
        }
        answer_ids = list(
            (
                await self.session.execute(
                    select(Answer.id).where(Answer.participant_id == participant.id)
                )
            )
            .scalars()
            .all()
        )
        await self.session.execute(
            delete(PendingAction).where(PendingAction.pseudonym == participant.pseudonym)
        )
        # Explicit deletes so that erasure does not depend on the backend enforcing cascades.
        await self.session.execute(delete(Report).where(Report.reporter_id == participant.id))
        own_answers = select(Answer.id).where(Answer.participant_id == participant.id)
        await self.session.execute(delete(Report).where(Report.answer_id.in_(own_answers)))
        await self.session.execute(
            delete(AnswerTheme).where(AnswerTheme.answer_id.in_(own_answers))
        )
        await self.session.execute(
            insert(self.session, ErasedAnswer).from_select(
                ["id", "item_id", "erased_at"],
                select(
                    Answer.id,
                    Answer.item_id,
                    literal(at or datetime.now(UTC), UTCDateTime()),
                ).where(Answer.participant_id == participant.id),
            )
        )
        # Their votes on statements; their own statements (statements items) become
        # tombstones: text erased, left out everywhere; others' votes on them are kept but
        # count nowhere (docs/opinion-groups.md, "Forget").
        await self.session.execute(
            delete(StatementVote).where(StatementVote.participant_id == participant.id)
        )
        await StatementRepository(self.session).erase_authored(own_answers, at or datetime.now(UTC))
        await self.session.execute(delete(Answer).where(Answer.participant_id == participant.id))
        await self.session.execute(delete(Vote).where(Vote.participant_id == participant.id))
        for table in (Subscription, MessageOptOut, ConsultationProgress, ProfileAnswer):
            await self.session.execute(delete(table).where(table.participant_id == participant.id))
        await self.session.execute(delete(Participant).where(Participant.id == participant.id))
        return {
            **counts,
            "items": sorted(set(vote_items) | set(answer_items)),
            "answer_ids": answer_ids,
        }

    async def purge_identities(self, cutoff: datetime) -> int:
        """Forget raw platform ids of people whose every item closed before ``cutoff``."""
        active_items = select(Item.id).where(
            or_(Item.status == "open", Item.closed_at.is_(None), Item.closed_at >= cutoff)
        )
        busy = union(
            select(Vote.participant_id).where(Vote.item_id.in_(active_items)),
            select(Answer.participant_id).where(Answer.item_id.in_(active_items)),
        )
        result = await self.session.execute(
            update(Participant)
            .where(
                Participant.platform_user_id.is_not(None),
                Participant.created_at < cutoff,
                Participant.id.not_in(busy),
            )
            .values(platform_user_id=None)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result)
