"""The read queries behind exports: row counts, streamed vote and answer rows, theme tags."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import Executable, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Answer, AnswerTheme, Option, Participant, Theme, Vote


class ExportQueries:
    """What ``services.exports`` reads; it shapes the rows, this only fetches them."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def count_rows(
        self, choice_ids: Sequence[int], ask_ids: Sequence[int], statuses: Sequence[str]
    ) -> int:
        """Votes on the choice items plus answers with one of ``statuses`` on the others."""
        total = 0
        if choice_ids:
            query = select(func.count(Vote.id)).where(Vote.item_id.in_(choice_ids))
            total += int(await self.session.scalar(query) or 0)
        if ask_ids:
            total += await self._answer_count(Answer.item_id.in_(ask_ids), statuses)
        return total

    async def answer_count(self, item_id: int, statuses: Sequence[str]) -> int:
        return await self._answer_count(Answer.item_id == item_id, statuses)

    async def _answer_count(self, which: Any, statuses: Sequence[str]) -> int:
        query = select(func.count(Answer.id)).where(which, Answer.status.in_(statuses))
        return int(await self.session.scalar(query) or 0)

    def votes(self, item_id: int, size: int) -> AsyncIterator[Sequence[Any]]:
        """(platform, created_at, option label, pseudonym), oldest first, ``size`` at a time."""
        query = (
            select(Vote.platform, Vote.created_at, Option.label, Participant.pseudonym)
            .join(Option, Option.id == Vote.option_id)
            .join(Participant, Participant.id == Vote.participant_id)
            .where(Vote.item_id == item_id)
            .order_by(Vote.created_at, Vote.id)
        )
        return self._stream(query, size)

    def answers(
        self, item_id: int, statuses: Sequence[str], size: int
    ) -> AsyncIterator[Sequence[Any]]:
        """(id, platform, created_at, text, status, pseudonym, language), oldest first, in
        batches."""
        query = (
            select(
                Answer.id,
                Answer.platform,
                Answer.created_at,
                Answer.text,
                Answer.status,
                Participant.pseudonym,
                Answer.language,
            )
            .join(Participant, Participant.id == Answer.participant_id)
            .where(Answer.item_id == item_id, Answer.status.in_(statuses))
            .order_by(Answer.created_at, Answer.id)
        )
        return self._stream(query, size)

    async def _stream(self, query: Executable, size: int) -> AsyncIterator[Sequence[Any]]:
        result = await self.session.stream(query.execution_options(yield_per=size))
        try:
            async for rows in result.partitions(size):
                yield rows
        finally:
            await result.close()

    async def answer_themes(self, item_id: int) -> dict[int, list[str]]:
        """Each tagged answer's theme names, sorted case-insensitively."""
        query = (
            select(AnswerTheme.answer_id, Theme.name)
            .join(Theme, Theme.id == AnswerTheme.theme_id)
            .where(Theme.item_id == item_id)
        )
        found: dict[int, list[str]] = {}
        for answer_id, name in (await self.session.execute(query)).all():
            found.setdefault(answer_id, []).append(name)
        for names in found.values():
            names.sort(key=str.casefold)
        return found

    async def theme_counts(self, item_id: int, statuses: Sequence[str]) -> list[tuple[str, int]]:
        """(theme name, answers with one of ``statuses`` tagged with it), by name."""
        query = (
            select(Theme.name, func.count(Answer.id))
            .outerjoin(AnswerTheme, AnswerTheme.theme_id == Theme.id)
            .outerjoin(
                Answer, and_(Answer.id == AnswerTheme.answer_id, Answer.status.in_(statuses))
            )
            .where(Theme.item_id == item_id)
            .group_by(Theme.id, Theme.name)
        )
        rows = [(str(name), int(n)) for name, n in (await self.session.execute(query)).all()]
        return sorted(rows, key=lambda r: r[0].casefold())
