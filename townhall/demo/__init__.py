"""``townhall demo``: a realistic sample consultation, made through the real handlers.

Every vote, answer, report and moderation decision is a synthetic platform event dispatched
through the same :class:`~bot.dispatch.Dispatcher` the adapters use, on a clock the demo moves
through the last week, so screening, consent (notice mode), reports, tallies and the audit log
are what a real week would have left. Messages the core queued for the made-up chats are marked
sent with made-up message ids: a real adapter started later never posts demo cards.
"""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.web.links import chat_path
from bot.config import ConfigError, Settings
from bot.hints import townhall_command
from bot.safety import check_secret_key
from storage import migrate
from storage.db import Database
from storage.demo import DemoQueries
from storage.items import ItemRepository
from townhall.demo.sample import CROWD, PLATFORMS
from townhall.demo.script import DemoReport, DemoScript

__all__ = ["PLATFORMS", "DemoRefused", "DemoReport", "main", "populate"]


class DemoRefused(Exception):
    """The database already holds items and ``force`` was not given."""


async def populate(
    settings: Settings,
    *,
    force: bool = False,
    now: datetime | None = None,
    seed: int = 20261128,
    crowd: dict[str, int] | None = None,
    db: Database | None = None,
) -> DemoReport:
    """Fill the configured database with the sample; refuses a non-empty one unless forced.

    ``crowd`` overrides how many people take part per platform (tests use a small one).
    """
    own_db = db is None
    database = db or Database(settings.database_url)
    try:
        if settings.auto_migrate:
            await migrate.upgrade(database)
        await check_secret_key(database, settings)
        async with database.transaction() as session:
            existing = await ItemRepository(session).count()
            first_outbox = await DemoQueries(session).newest_outbox_id()
        if existing and not force:
            raise DemoRefused(
                f"the database already holds {existing} item(s); the demo adds its sample only "
                "to an empty database (use --force to add it anyway)"
            )
        start = now or datetime.now(UTC)
        demo = DemoScript(settings, database, start, seed, first_outbox or 0, crowd or CROWD)
        await demo.run()
        return demo.report
    finally:
        if own_db:
            await database.dispose()


def main(settings: Settings, *, force: bool) -> None:
    """``townhall demo``: run the sample and tell the newcomer what to do next."""
    import asyncio

    import click

    try:
        report = asyncio.run(populate(settings, force=force))
    except (DemoRefused, ConfigError) as exc:
        click.echo(f"townhall demo: {exc}", err=True)
        raise SystemExit(1) from None
    click.echo("Created a sample consultation from the last week:")
    for short_id, kind, status, question in report.items:
        click.echo(f"  {short_id}  {kind:<5} {status:<6} {question[:70]}")
    click.echo(
        f"{report.votes} votes and {report.answers} answers from {report.participants} people "
        f"on {', '.join(PLATFORMS)}; {report.to_review} answers wait for a moderator "
        f"({report.reports} reports, {report.decisions} decisions made)."
    )
    base = f"http://{settings.http_host}:{settings.http_port}"
    if report.consultation is not None:
        shown = report.consultation
        click.echo(
            f"And a consultation, {shown.slug}: a draft Bill clause by clause and regulations to "
            f"rate ({shown.items} items); {shown.started} people started it and "
            f"{shown.completed} answered every item. Its page: {base}/consultations/{shown.slug}"
        )
    click.echo(
        "\nNext:\n"
        f"  {townhall_command('users add you@example.gov.uk --role admin')}"
        "   # your dashboard account\n"
        f"  {townhall_command('run')}\n"
        f"  open {base}/ and sign in; the public web chat of an item is {base}/c/<id>, e.g. "
        f"{base}{chat_path(report.items[0][0])}"
    )
