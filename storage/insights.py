"""Read models for the policy team's dashboard: overviews, timelines, answers, audit, channels."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import exists, func, not_, or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage.models import (
    Answer,
    AnswerTheme,
    AuditEntry,
    Item,
    Publication,
    Report,
    Theme,
    Vote,
)
from storage.themes import ThemeRepository

#: Answer statuses anyone can see; held and hidden answers are not responses on show.
PUBLIC_STATUSES = ("visible",)


@dataclass
class ItemRow:
    item: Item
    publications: list[tuple[str, str]] = field(default_factory=list)  # (platform, channel_id)
    #: What the platforms call those channels, where they said.
    channel_names: dict[tuple[str, str], str] = field(default_factory=dict)
    respondents: int = 0
    answers_waiting: int = 0


@dataclass
class AnswerRow:
    answer: Answer
    themes: list[Theme] = field(default_factory=list)
    reports: int = 0


@dataclass(frozen=True)
class Channel:
    platform: str
    channel_id: str
    thread_id: str | None
    last_used: datetime
    name: str | None = None


def _like(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, its wildcards escaped (escape char ``\\``)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def _contains(column: Any, text: str) -> ColumnElement[bool]:
    """Case-insensitive substring match, spelled the same on SQLite and PostgreSQL."""
    return func.lower(column).like(_like(text), escape="\\")


def _public_publication() -> ColumnElement[bool]:
    """Publications outside private chats with the bot."""
    return not_(Publication.private)


def _floor(at: datetime, bucket: Literal["hour", "day"]) -> datetime:
    at = at.astimezone(UTC)
    if bucket == "day":
        return at.replace(hour=0, minute=0, second=0, microsecond=0)
    return at.replace(minute=0, second=0, microsecond=0)


def _page(page: int, per_page: int) -> tuple[int, int]:
    per_page = max(1, per_page)
    return per_page, (max(1, page) - 1) * per_page


class InsightsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def overview(
        self,
        *,
        status: str | None = None,
        kind: str | None = None,
        platform: str | None = None,
        q: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[ItemRow], int]:
        """Items newest first with where they are shown and how many took part; and the total."""
        conditions: list[ColumnElement[bool]] = []
        if status:
            conditions.append(Item.status == status)
        if kind:
            conditions.append(Item.kind == kind)
        if platform:
            conditions.append(
                exists().where(Publication.item_id == Item.id, Publication.platform == platform)
            )
        if q:
            conditions.append(or_(_contains(Item.question, q), _contains(Item.short_id, q)))
        total = await self.session.scalar(select(func.count(Item.id)).where(*conditions))
        query = (
            select(Item)
            .where(*conditions)
            .order_by(Item.created_at.desc(), Item.id.desc())
            .limit(max(0, limit))
            .offset(max(0, offset))
        )
        items = list((await self.session.execute(query)).scalars().all())
        rows = {item.id: ItemRow(item) for item in items}
        if rows:
            await self._fill(rows)
        return list(rows.values()), int(total or 0)

    async def _fill(self, rows: dict[int, ItemRow]) -> None:
        ids = list(rows)
        places = await self.session.execute(
            select(Publication.item_id, Publication.platform, Publication.channel_id)
            .where(Publication.item_id.in_(ids), _public_publication())
            .group_by(Publication.item_id, Publication.platform, Publication.channel_id)
            .order_by(Publication.item_id, Publication.platform, Publication.channel_id)
        )
        for item_id, platform, channel_id in places.all():
            rows[item_id].publications.append((platform, channel_id))
        names = await self.channel_names({p for row in rows.values() for p in row.publications})
        for row in rows.values():
            row.channel_names = {p: names[p] for p in row.publications if p in names}
        people = union(
            select(Vote.item_id, Vote.participant_id).where(Vote.item_id.in_(ids)),
            select(Answer.item_id, Answer.participant_id).where(Answer.item_id.in_(ids)),
        ).subquery()
        counts = await self.session.execute(
            select(people.c.item_id, func.count()).group_by(people.c.item_id)
        )
        for item_id, n in counts.all():
            rows[item_id].respondents = int(n)
        waiting = await self.session.execute(
            select(Answer.item_id, func.count(Answer.id))
            .where(Answer.item_id.in_(ids), Answer.needs_review)
            .group_by(Answer.item_id)
        )
        for item_id, n in waiting.all():
            rows[item_id].answers_waiting = int(n)

    async def over_time(
        self, item: Item, bucket: Literal["hour", "day"]
    ) -> list[tuple[datetime, int]]:
        """Responses (a person's vote, or a public answer) per UTC hour or day, ascending.

        Bucketed in Python so that both backends give the same result; a multi-choice ballot
        (several vote rows at one instant) counts once.
        """
        counts: dict[datetime, int] = defaultdict(int)
        votes = await self.session.stream(
            select(Vote.participant_id, Vote.created_at)
            .where(Vote.item_id == item.id)
            .group_by(Vote.participant_id, Vote.created_at)
        )
        async for _, at in votes:
            counts[_floor(at, bucket)] += 1
        answers = await self.session.stream(
            select(Answer.created_at).where(
                Answer.item_id == item.id, Answer.status.in_(PUBLIC_STATUSES)
            )
        )
        async for (at,) in answers:
            counts[_floor(at, bucket)] += 1
        return sorted(counts.items())

    async def answers(
        self,
        item: Item,
        *,
        q: str | None = None,
        platform: str | None = None,
        status: str | None = None,
        theme_id: int | None = None,
        page: int = 1,
        per_page: int = 20,
    ) -> tuple[list[AnswerRow], int]:
        """One page of an item's answers, oldest first, with themes and reports; and the total."""
        conditions: list[ColumnElement[bool]] = [Answer.item_id == item.id]
        if q:
            conditions.append(_contains(Answer.text, q))
        if platform:
            conditions.append(Answer.platform == platform)
        if status:
            conditions.append(Answer.status == status)
        if theme_id is not None:
            conditions.append(
                exists().where(AnswerTheme.answer_id == Answer.id, AnswerTheme.theme_id == theme_id)
            )
        total = await self.session.scalar(select(func.count(Answer.id)).where(*conditions))
        limit, offset = _page(page, per_page)
        query = (
            select(Answer)
            .where(*conditions)
            .order_by(Answer.created_at, Answer.id)
            .limit(limit)
            .offset(offset)
        )
        found = list((await self.session.execute(query)).scalars().all())
        ids = [a.id for a in found]
        themes = await ThemeRepository(self.session).themes_for_answers(ids)
        reports: dict[int, int] = {}
        if ids:
            counted = await self.session.execute(
                select(Report.answer_id, func.count(Report.id))
                .where(Report.answer_id.in_(ids))
                .group_by(Report.answer_id)
            )
            reports = {answer_id: int(n) for answer_id, n in counted.all()}
        rows = [AnswerRow(a, themes.get(a.id, []), reports.get(a.id, 0)) for a in found]
        return rows, int(total or 0)

    async def audit(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        target: str | None = None,
        page: int = 1,
        per_page: int = 50,
    ) -> tuple[list[AuditEntry], int]:
        """One page of the audit log, newest first; ``action`` matches a prefix."""
        conditions: list[ColumnElement[bool]] = []
        if actor:
            conditions.append(AuditEntry.actor == actor)
        if target:
            conditions.append(AuditEntry.target == target)
        if action:
            escaped = action.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            conditions.append(AuditEntry.action.like(f"{escaped}%", escape="\\"))
        total = await self.session.scalar(select(func.count(AuditEntry.id)).where(*conditions))
        limit, offset = _page(page, per_page)
        query = (
            select(AuditEntry)
            .where(*conditions)
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return list((await self.session.execute(query)).scalars().all()), int(total or 0)

    async def audit_subjects(
        self, field: Literal["actor", "target"], platform: str, *, limit: int = 5000
    ) -> list[str]:
        """Distinct actors (or targets) in the audit log shaped ``<platform>:...``."""
        column = AuditEntry.actor if field == "actor" else AuditEntry.target
        query = (
            select(column)
            .distinct()
            .where(column.startswith(f"{platform}:", autoescape=True))
            .limit(limit)
        )
        return [str(value) for value in (await self.session.execute(query)).scalars()]

    async def known_channels(self) -> list[Channel]:
        """Each distinct public place items were published to, most recently used first."""
        last = func.max(Publication.created_at)
        query = (
            select(Publication.platform, Publication.channel_id, Publication.thread_id, last)
            .where(_public_publication())
            .group_by(Publication.platform, Publication.channel_id, Publication.thread_id)
            .order_by(last.desc(), Publication.platform, Publication.channel_id)
        )
        found = (await self.session.execute(query)).all()
        names = await self.channel_names({(p, c) for p, c, _, _ in found})
        return [
            Channel(platform, channel_id, thread_id, _aware(at), names.get((platform, channel_id)))
            for platform, channel_id, thread_id, at in found
        ]

    async def channel_names(self, places: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """The latest name each (platform, channel id) was published under, where known."""
        if not places:
            return {}
        query = (
            select(Publication.platform, Publication.channel_id, Publication.channel_name)
            .where(
                Publication.channel_id.in_(sorted({c for _, c in places})),
                Publication.channel_name.is_not(None),
            )
            .order_by(Publication.id)
        )
        names: dict[tuple[str, str], str] = {}
        for platform, channel_id, name in (await self.session.execute(query)).all():
            if name and (platform, channel_id) in places:
                names[(platform, channel_id)] = name
        return names


def _aware(value: datetime | str) -> datetime:
    """max() over a UTCDateTime column comes back untyped on SQLite: make it an aware datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


__all__: Sequence[str] = ("AnswerRow", "Channel", "InsightsRepository", "ItemRow")
