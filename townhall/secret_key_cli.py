"""``townhall secret-key``: check the key against this database, or knowingly adopt a new one."""

from __future__ import annotations

import asyncio

import click

from bot.config import Settings
from bot.context import utc_now
from bot.safety import SecretKeyChanged, accept_new_key, check_secret_key
from storage import migrate
from storage.db import Database
from townhall.cli_settings import cli_settings

CONSEQUENCES = (
    "Every participant's pseudonym is made from TOWNHALL_SECRET_KEY. With a new key, people who "
    "took part before count as new participants: they can vote again on open items, and "
    "`mydata` / `forget` no longer find what they said before. Their earlier answers stay."
)


def _settings() -> Settings:
    return cli_settings(quiet=True)


async def _migrated(settings: Settings) -> Database:
    db = Database(settings.database_url)
    if settings.auto_migrate:
        await migrate.upgrade(db)
    return db


@click.group("secret-key")
def secret_key() -> None:
    """The secret key this database expects (set it once, never change it, back it up)."""


@secret_key.command("check")
def check() -> None:
    """Say whether TOWNHALL_SECRET_KEY is the key this database was started with."""
    settings = _settings()

    async def go() -> None:
        db = await _migrated(settings)
        try:
            await check_secret_key(db, settings)
        finally:
            await db.dispose()

    try:
        asyncio.run(go())
    except SecretKeyChanged as exc:
        click.echo(f"townhall: {exc}", err=True)
        raise SystemExit(1) from None
    click.echo("TOWNHALL_SECRET_KEY is the key this database expects.")


@secret_key.command("accept-new")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def accept_new(yes: bool) -> None:
    """Make the current TOWNHALL_SECRET_KEY the one this database expects (audited)."""
    settings = _settings()
    if not yes:
        click.echo(CONSEQUENCES)
        click.confirm("Use the current TOWNHALL_SECRET_KEY from now on?", abort=True)

    async def go() -> bool:
        db = await _migrated(settings)
        try:
            return await accept_new_key(db, settings, "cli", utc_now)
        finally:
            await db.dispose()

    if asyncio.run(go()):
        click.echo("Done: this database now expects the current TOWNHALL_SECRET_KEY.")
    else:
        click.echo("No change: this database already expects the current TOWNHALL_SECRET_KEY.")
