"""``townhall channel language CHANNEL cy|en|both``: the language of a channel's public cards
(issue 18; docs/translating.md). Staff-facing, so English."""

from __future__ import annotations

import click
from sqlalchemy.ext.asyncio import AsyncSession

from storage.channel_languages import CHANNEL_LANGUAGES
from townhall.users_cli import _in_session, utc_now


@click.group()
def channel() -> None:
    """Settings of a channel where Townhall posts (CHANNEL is platform:channel_id)."""


@channel.command("language")
@click.argument("where", metavar="CHANNEL")
@click.argument("language", type=click.Choice(CHANNEL_LANGUAGES))
def channel_language(where: str, language: str) -> None:
    """Post CHANNEL's cards in Welsh (cy), English (en) or both (the default: both when the
    item has its Welsh). Cards already posted follow at their next update."""
    platform, sep, channel_id = where.partition(":")
    if not (platform and sep and channel_id) or len(platform) > 20 or len(channel_id) > 100:
        raise click.BadParameter(
            "expected platform:channel_id, e.g. slack:C024BE91L", param_hint="CHANNEL"
        )

    async def work(session: AsyncSession) -> bool:
        from storage.channel_languages import ChannelLanguageRepository
        from storage.ledger import AuditLog

        changed = await ChannelLanguageRepository(session).set(platform, channel_id, language)
        if changed:
            await AuditLog(session).record(
                "cli", "channel.language", where, utc_now(), language=language
            )
        return changed

    if _in_session(work):
        click.echo(f"{where} now shows cards in: {language}.")
    else:
        click.echo(f"No change: {where} already shows cards in: {language}.")
