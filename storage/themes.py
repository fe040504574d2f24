"""Themes: labels the policy team puts on the answers to one open question."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import insert, rowcount
from storage.models import Answer, AnswerTheme, Item, Theme

MAX_NAME = 60


def theme_name(name: str) -> str:
    """Whitespace collapsed; ValueError unless 1 to 60 characters remain."""
    cleaned = " ".join(name.split())
    if not 1 <= len(cleaned) <= MAX_NAME:
        raise ValueError(f"a theme name has 1 to {MAX_NAME} characters")
    return cleaned


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


class ThemeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _named(self, item_id: int, name: str) -> Theme | None:
        query = select(Theme).where(Theme.item_id == item_id)
        wanted = _key(name)
        for theme in (await self.session.execute(query)).scalars():
            if _key(theme.name) == wanted:
                return theme
        return None

    async def create(self, item: Item, name: str, by: str, at: datetime) -> Theme:
        """The item's theme with this name (compared case-insensitively), created if new."""
        cleaned = theme_name(name)
        existing = await self._named(item.id, cleaned)
        if existing is not None:
            return existing
        theme = Theme(item_id=item.id, name=cleaned, created_by=by, created_at=at)
        try:
            async with self.session.begin_nested():
                self.session.add(theme)
                await self.session.flush()
        except IntegrityError:  # created concurrently under the same name
            found = await self._named(item.id, cleaned)
            if found is None:
                raise
            return found
        return theme

    async def for_item(self, item_id: int) -> list[tuple[Theme, int]]:
        """The item's themes by name, each with how many answers carry it."""
        query = (
            select(Theme, func.count(AnswerTheme.answer_id))
            .outerjoin(AnswerTheme, AnswerTheme.theme_id == Theme.id)
            .where(Theme.item_id == item_id)
            .group_by(Theme.id)
        )
        rows = [(theme, int(n)) for theme, n in (await self.session.execute(query)).all()]
        return sorted(rows, key=lambda row: (row[0].name.casefold(), row[0].id))

    async def get(self, theme_id: int) -> Theme | None:
        return await self.session.get(Theme, theme_id)

    async def tag(self, answer_id: int, theme_id: int, by: str, at: datetime) -> bool:
        """Tag an answer; False when it already had the theme.

        ValueError when the answer or theme is unknown, or they belong to different items.
        """
        answer_item = await self.session.scalar(
            select(Answer.item_id).where(Answer.id == answer_id)
        )
        theme_item = await self.session.scalar(select(Theme.item_id).where(Theme.id == theme_id))
        if answer_item is None or theme_item is None or answer_item != theme_item:
            raise ValueError("the answer and the theme must belong to the same item")
        result = await self.session.execute(
            insert(self.session, AnswerTheme)
            .values(answer_id=answer_id, theme_id=theme_id, tagged_by=by, tagged_at=at)
            .on_conflict_do_nothing(index_elements=["answer_id", "theme_id"])
        )
        return bool(rowcount(result))

    async def untag(self, answer_id: int, theme_id: int) -> bool:
        """Remove a tag; False when the answer did not have it."""
        result = await self.session.execute(
            delete(AnswerTheme).where(
                AnswerTheme.answer_id == answer_id, AnswerTheme.theme_id == theme_id
            )
        )
        return bool(rowcount(result))

    async def themes_for_answers(self, answer_ids: Iterable[int]) -> dict[int, list[Theme]]:
        """Each given answer's themes by name (an empty list when it has none)."""
        ids = sorted(set(answer_ids))
        found: dict[int, list[Theme]] = {answer_id: [] for answer_id in ids}
        if not ids:
            return found
        query = (
            select(AnswerTheme.answer_id, Theme)
            .join(Theme, Theme.id == AnswerTheme.theme_id)
            .where(AnswerTheme.answer_id.in_(ids))
        )
        for answer_id, theme in (await self.session.execute(query)).all():
            found[answer_id].append(theme)
        for themes in found.values():
            themes.sort(key=lambda t: (t.name.casefold(), t.id))
        return found

    async def visible_texts(self, item_id: int) -> list[tuple[int, str]]:
        """(id, text) of the item's visible answers, oldest first: what theme suggestions read.

        Held and hidden answers are left out; a redacted answer is read as redacted.
        """
        query = (
            select(Answer.id, Answer.text)
            .where(Answer.item_id == item_id, Answer.status == "visible")
            .order_by(Answer.id)
        )
        return [(int(i), str(t)) for i, t in (await self.session.execute(query)).all()]

    async def still_visible(self, item_id: int, answer_ids: Iterable[int]) -> list[int]:
        """Those of ``answer_ids`` that are the item's visible answers now, in the given order."""
        ids = list(dict.fromkeys(answer_ids))
        kept: set[int] = set()
        for start in range(0, len(ids), 5000):  # within every driver's bound-parameter limit
            query = select(Answer.id).where(
                Answer.item_id == item_id,
                Answer.status == "visible",
                Answer.id.in_(ids[start : start + 5000]),
            )
            kept.update((await self.session.execute(query)).scalars())
        return [i for i in ids if i in kept]
