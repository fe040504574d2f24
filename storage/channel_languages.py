"""The language of each channel's public cards (issue 18): ``townhall channel language``."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ChannelLanguage

#: What a channel may be set to; no setting shows both when the item has its Welsh.
CHANNEL_LANGUAGES = ("en", "cy", "both")


class ChannelLanguageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def of(self, platform: str, channel_id: str) -> str | None:
        """The channel's setting, or None when it has none."""
        query = select(ChannelLanguage.language).where(
            ChannelLanguage.platform == platform, ChannelLanguage.channel_id == channel_id
        )
        return await self.session.scalar(query)

    async def set(self, platform: str, channel_id: str, language: str) -> bool:
        """Set it; False when it already was."""
        row = await self.session.get(ChannelLanguage, (platform, channel_id))
        if row is not None and row.language == language:
            return False
        if row is None:
            self.session.add(
                ChannelLanguage(platform=platform, channel_id=channel_id, language=language)
            )
        else:
            row.language = language
        await self.session.flush()
        return True
