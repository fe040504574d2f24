"""The ``townhall`` command line: run the bot, chat locally, read results, export, manage roles.

Start-up matters here (``townhall results ID --json`` in scripts): modules that only some
commands need (adapters, the HTTP app, the dashboard, exports, the abuse model, Alembic) are
imported inside those commands, and only ``run`` and ``db upgrade`` run Alembic's migration
check; the others compare the database's revision with the newest one in one query.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Awaitable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import click

from bot.hints import townhall_command
from townhall.cli_output import echo_items, echo_listing, echo_results, no_item

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.config import Settings
    from storage.db import Database

#: storage.models.ROLES and services.exports.FORMATS, spelt here so that defining the commands
#: imports neither the ORM nor SQLAlchemy (tests/test_cli_startup.py keeps them equal).
ROLES = ("policy", "moderator", "admin")
EXPORT_FORMATS = ("csv", "json", "ods")

T = TypeVar("T")


def utc_now() -> datetime:
    from bot.context import utc_now as now  # the whole core: only when a command writes

    return now()


def _settings(*, quiet: bool = False) -> Settings:
    """Load and validate settings; ``quiet`` logs only warnings unless a level is set."""
    from townhall.cli_settings import cli_settings

    return cli_settings(quiet=quiet)


def _run(coro: Awaitable[T]) -> T:
    import asyncio  # not on the fast path of results/list over SQLite

    return asyncio.run(coro)  # type: ignore[arg-type]


def _serve_forever(coro: Awaitable[None]) -> None:
    """``townhall run``'s loop: uvloop where installed (its event loop costs a fraction of
    asyncio's own per callback and per socket read), else asyncio's."""
    import asyncio

    try:
        import uvloop
    except ImportError:  # pragma: no cover - a dependency; an unusual platform may lack it
        asyncio.run(coro)  # type: ignore[arg-type]
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(coro)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def _session(settings: Settings, *, read_only: bool = False) -> AsyncIterator[AsyncSession]:
    """A transaction on the configured database, migrated first if it is behind and
    TOWNHALL_AUTO_MIGRATE is on; ``read_only`` commands never migrate: a database that is
    not at the newest revision gets one line naming ``townhall db upgrade``."""
    from storage import migrate
    from storage.db import Database
    from storage.revisions import SchemaBehind

    db = Database(settings.database_url)
    try:
        if read_only:
            try:
                await migrate.require_current(db)
            except SchemaBehind as behind:
                from townhall.cli_fast import schema_behind

                raise schema_behind(behind) from None
        elif settings.auto_migrate:
            await migrate.ensure_current(db)
        async with db.transaction() as session:
            yield session
    finally:
        await db.dispose()


async def _item_or_exit(session: AsyncSession, short_id: str) -> Any:
    from storage.items import ItemRepository

    item = await ItemRepository(session).by_short_id(short_id)
    if item is None:
        raise no_item(short_id)
    return item


class _Commands(click.Group):
    """Subcommand groups defined in their own modules, imported only when they are used."""

    LAZY: ClassVar[dict[str, str]] = {
        "users": "townhall.users_cli:users",
        "secret-key": "townhall.secret_key_cli:secret_key",
        "consultation": "townhall.consultation_cli:consultation",
        "channel": "townhall.channel_cli:channel",
        "themes": "townhall.themes_cli:themes",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.LAZY})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.LAZY and cmd_name not in self.commands:
            import importlib

            module, _, name = self.LAZY[cmd_name].partition(":")
            command = getattr(importlib.import_module(module), name)
            assert isinstance(command, click.Command)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="townhall")
def main() -> None:
    """Townhall: consult the public where people already talk."""


@main.command()
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Worker processes sharing the port and one PostgreSQL database.",
)
@click.option("--reuse-port", is_flag=True, hidden=True)  # a worker started by --workers
def run(workers: int, reuse_port: bool) -> None:
    """Start every configured adapter plus the HTTP server (webhooks, dashboard, /healthz)."""
    from bot.config import ConfigError
    from handlers import all_specs
    from townhall.app import Townhall
    from townhall.platforms import configured_adapters

    settings = _settings()
    if workers > 1:
        from townhall import workers as several

        try:
            several.check(settings, workers)
        except ConfigError as exc:
            click.echo(f"townhall: {exc}", err=True)
            raise SystemExit(2) from None
        for caveat in several.caveats(settings, workers):
            click.echo(f"townhall: warning: {caveat}", err=True)
        raise SystemExit(_run(several.supervise(settings, workers)))
    adapters, disabled = configured_adapters(settings, all_specs())

    async def serve() -> None:
        import asyncio

        from dashboard import install as dashboard
        from townhall.webchat import connect as web_chat

        # Signals are handled from the start: a SIGINT/SIGTERM while starting stops the app
        # cleanly once it has started (a second one, while a start hangs, aborts as before).
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        signals = (signal.SIGINT, signal.SIGTERM)

        def on_signal() -> None:
            stop.set()
            if not started.is_set():
                for sig in signals:
                    loop.remove_signal_handler(sig)

        started = asyncio.Event()
        for sig in signals:
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, on_signal)
        app = Townhall(
            settings, adapters, web_extensions=[web_chat, dashboard], reuse_port=reuse_port
        )
        try:
            await app.start()
            started.set()
        except ConfigError as exc:
            await app.stop()
            click.echo(f"townhall: {exc}", err=True)
            raise SystemExit(2) from None
        from bot import metrics

        base = f"http://{settings.http_host}:{app.http_port}"
        click.echo(f"Townhall is running on {base}  (health: {base}/healthz)")
        click.echo(f"Dashboard: {settings.public_url or base}/")
        click.echo(f"Database: {_describe_db(settings.database_url)}")
        click.echo(f"Metrics: {metrics.describe(settings, base, app.metrics_port)}")
        for adapter in adapters:
            click.echo(f"  {adapter.name}: on")
        for off in disabled:
            click.echo(f"  {off.name}: off ({off.reason})")
        if not any(a.name != "web" for a in adapters):  # the web chat is always on
            click.echo(
                "No chat platform is configured: publish to the web chat from the dashboard, "
                f"or try it locally: {townhall_command('chat --as alice')}"
            )
        if await _dashboard_accounts(app.db) == 0:
            click.echo(
                "No dashboard accounts yet. Create the first one:\n  "
                + townhall_command("users add you@example.gov.uk --role admin")
            )
        try:
            await stop.wait()
        finally:
            click.echo("Stopping...")
            await app.stop()

    _serve_forever(serve())


async def _dashboard_accounts(db: Database) -> int:
    from storage.accounts import AccountRepository

    async with db.transaction() as session:
        return await AccountRepository(session).count()


def _describe_db(url: str) -> str:
    if url.startswith("sqlite"):
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}"  # never print the password


@main.command()
@click.option("--as", "user", required=True, help="Your name in this chat (e.g. alice).")
@click.option("--channel", default="town-square", show_default=True)
def chat(user: str, channel: str) -> None:
    """Chat with the bot in this terminal, as USER (works with piped stdin too)."""
    from adapters.console import ConsoleAdapter
    from bot import identifiers
    from bot.config import ConfigError
    from townhall.app import Townhall

    try:
        identifiers.check_user(user, "console")
    except identifiers.IdentifierTooLong as exc:
        raise click.BadParameter(exc.message, param_hint="--as") from None

    settings = _settings(quiet=True)

    async def session() -> None:
        console = ConsoleAdapter(user, channel=channel)
        app = Townhall(settings, [console])
        console.settle = app.deliverer.drain
        try:
            await app.start(serve_http=False, background=False)
        except ConfigError as exc:
            await app.stop()
            click.echo(f"townhall: {exc}", err=True)
            raise SystemExit(2) from None
        try:
            await app.scheduler.run_once()
            await app.deliverer.drain()
            if sys.stdin.isatty():
                click.echo(
                    f"Townhall chat as {user} in #{channel}. Type help; :as NAME switches "
                    "person; :quit leaves."
                )
            await console.run()
        finally:
            await app.stop()

    _run(session())


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations."""
    from storage import migrate
    from storage.db import Database

    settings = _settings(quiet=True)

    async def go() -> str | None:
        database = Database(settings.database_url)
        try:
            await migrate.upgrade(database)
            return await migrate.current(database)
        finally:
            await database.dispose()

    click.echo(f"Database at revision {_run(go())}")


#: A hidden switch for tests and bench/tally.py: skip the fast path of ``list``/``results``.
_ORDINARY = click.option("--no-fast-path", "ordinary", is_flag=True, hidden=True)


@main.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--status", type=click.Choice(["open", "closed"]))
@_ORDINARY
def list_items(as_json: bool, status: str | None, ordinary: bool) -> None:
    """List items, newest first."""
    from townhall import cli_fast

    if not ordinary and cli_fast.try_list(as_json, status):
        return
    settings = _settings(quiet=True)

    async def go() -> list[dict[str, str]]:
        from storage.items import ItemRepository

        async with _session(settings, read_only=True) as session:
            items = await ItemRepository(session).list(status=status, limit=1000)
            return [
                {"id": i.short_id, "kind": i.kind, "question": i.question, "status": i.status}
                for i in items
            ]

    echo_items(_run(go()), as_json)


@main.command()
@click.argument("item_id")
@click.option("--json", "as_json", is_flag=True, help="Print the documented JSON shape.")
@click.option("--include-hidden", is_flag=True, help="Include held and hidden answers.")
@click.option(
    "--by",
    "by",
    metavar="QUESTION",
    help="Break the results down by an 'about you' question (age, region, respondent, ...); "
    "counts below TOWNHALL_MIN_CELL are suppressed.",
)
@_ORDINARY
def results(
    item_id: str, as_json: bool, include_hidden: bool, by: str | None, ordinary: bool
) -> None:
    """Show an item's results."""
    from townhall import cli_fast

    if by is None and not ordinary and cli_fast.try_results(item_id, as_json, include_hidden):
        return
    from services import breakdown, consultations
    from services import results as results_mod

    settings = _settings(quiet=True)

    async def go() -> tuple[results_mod.ItemResults, breakdown.Breakdown | None]:
        async with _session(settings, read_only=True) as session:
            item = await _item_or_exit(session, item_id)
            # compute(), plus the whys and comments of rating and clause items
            found = await consultations.item_results(session, item, include_hidden=include_hidden)
            if by is None:
                return found, None
            split = await breakdown.compute(
                session, item, by, settings.min_cell, include_hidden=include_hidden
            )
            return found, split

    found, split = _run(go())
    if split is None:
        echo_results(found, as_json)
    elif as_json:
        click.echo(
            json.dumps({**found.to_json(), "breakdown": split.to_json()}, ensure_ascii=False)
        )
    else:
        echo_results(found, False)
        click.echo(f"by {split.by}: {split.question}")
        click.echo("  " + " | ".join(["group", *split.columns]))
        for i, value in enumerate(split.values):
            cells = [split.shown(i, j) for j in range(len(split.columns))]
            click.echo("  " + " | ".join([value, *cells]))


@main.command()
@click.argument("item_id", required=False)
@click.option("--all", "every", is_flag=True, help="Export every item instead of one.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice([*EXPORT_FORMATS, "polis"]),
    default="csv",
    show_default=True,
    help="polis: a statements item in Polis's CSV export layout (comments.csv, "
    "participants-votes.csv, votes.csv) written into the folder given with -o.",
)
@click.option(
    "-o",
    "--output",
    "--out",
    type=click.Path(writable=True),
    help="Write to this file instead of standard output (ODS: needed unless piped; "
    "polis: the folder to write into).",
)
@click.option("--include-hidden", is_flag=True, help="Include held and hidden answers.")
@click.option("--no-progress", is_flag=True, help="No progress bar, even on a terminal.")
@click.option(
    "--by",
    "by",
    metavar="QUESTION",
    help="Add each item's results broken down by an 'about you' question, suppressed "
    "(CSV: that table instead of the responses).",
)
def export(
    item_id: str | None,
    every: bool,
    fmt: str,
    output: str | None,
    include_hidden: bool,
    no_progress: bool,
    by: str | None,
) -> None:
    """Export an item's responses, a consultation's (give its slug), or every item's with --all
    (pseudonymous ids only)."""
    if every == (item_id is not None):
        raise click.UsageError("give an ITEM_ID or --all (not both)")
    if fmt == "polis":
        _export_polis(item_id, every, output)
        return
    if output and os.path.isdir(output):
        raise click.UsageError(f"{output} is a folder: give a file name")
    stdout = sys.stdout.buffer
    if fmt == "ods" and not output and stdout.isatty():
        raise click.UsageError("ODS is binary: use -o FILE, or pipe the output")
    settings = _settings(quiet=True)
    split = None if by is None else (by, settings.min_cell)

    async def go(out: Any) -> None:
        from tqdm import tqdm  # type: ignore[import-untyped]

        from services import exports
        from storage.items import ItemRepository
        from townhall.consultation_cli import export_consultation

        async with _session(settings) as session:
            if not every and await export_consultation(
                session,
                item_id or "",
                fmt,
                out,
                include_hidden=include_hidden,
                at=utc_now(),
                by=split,
            ):
                return
            if every:
                items = list(await ItemRepository(session).all_oldest_first())
            else:
                found = await ItemRepository(session).by_short_id(item_id or "")
                if found is None:
                    unknown = f"no item with id {item_id!r} (nor a consultation)"
                    click.echo(f"townhall: {unknown}", err=True)
                    raise SystemExit(1)
                items = [found]
            total = await exports.count(session, items, include_hidden=include_hidden)
            quiet = no_progress or total <= 1000 or not sys.stderr.isatty()
            with tqdm(total=total, unit="rows", file=sys.stderr, disable=quiet) as bar:
                await exports.write(
                    session,
                    items,
                    fmt,
                    out,
                    include_hidden=include_hidden,
                    progress=bar.update,
                    many=every,
                    at=utc_now(),
                    by=split,
                )

    if output:
        with open(output, "wb") as handle:
            _run(go(handle))
        click.echo(f"Wrote {output}", err=True)
    else:
        _run(go(stdout))
        stdout.flush()


def _export_polis(item_id: str | None, every: bool, output: str | None) -> None:
    """``townhall export ID --format polis -o DIR``: Polis's CSV layout (issue 20)."""
    if every or item_id is None or not output:
        raise click.UsageError("--format polis needs one ITEM_ID and -o FOLDER")
    settings = _settings(quiet=True)

    async def go() -> list[Path]:
        from services import polis_export

        async with _session(settings, read_only=True) as session:
            item = await _item_or_exit(session, item_id)
            if item.kind != "statements":
                raise click.UsageError(
                    f"{item_id} is a {item.kind}: only statements items export in Polis's layout"
                )
            return polis_export.write(await polis_export.collect(session, item), Path(output))

    for path in _run(go()):
        click.echo(f"Wrote {path}", err=True)


@main.command()
@click.argument("item_id")
def close(item_id: str) -> None:
    """Close an item now; results are posted where it was published when the bot runs."""
    from services.lifecycle import close_item

    settings = _settings(quiet=True)

    async def go() -> bool:
        async with _session(settings) as session:
            item = await _item_or_exit(session, item_id)
            return await close_item(session, item, "cli", utc_now())

    if _run(go()):
        click.echo(f"Closed {item_id}.")
    else:
        click.echo(f"{item_id} was already closed.")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option(
    "--evaluate",
    type=click.Path(exists=True, dir_okay=False),
    help="Score the rules on a labelled CSV (participant,text,expected) instead.",
)
def screen(as_json: bool, evaluate: str | None) -> None:
    """Screen texts read one per line from standard input, as answers are screened."""
    from townhall import screen_cli

    flood_limit = _settings(quiet=True).flood_limit
    if evaluate:
        report = screen_cli.evaluate(evaluate, flood_limit)
        click.echo(json.dumps(report, indent=2) if as_json else screen_cli.format_report(report))
        return

    def complain(message: str) -> None:
        click.echo(message, err=True)

    for line in screen_cli.screen_lines(sys.stdin, flood_limit, on_error=complain):
        click.echo(
            json.dumps(line, ensure_ascii=False)
            if as_json
            else f"{line['verdict']:<4} {','.join(line['reasons']) or '-':<30} {line['text']}"
        )


@main.command()
@click.option("--fix", is_flag=True, help="Replace the counters with a full recount.")
def doctor(fix: bool) -> None:
    """Check that the vote counters equal a full recount of the votes (exit 1 if not)."""
    from storage.tallies import TallyRepository

    settings = _settings(quiet=True)

    async def go() -> list[Any]:
        async with _session(settings) as session:
            found = await TallyRepository(session).mismatches()
            if found and fix:
                await TallyRepository(session).rebuild()
            return found

    found = _run(go())
    if not found:
        click.echo("ok: vote counters equal a full recount")
        return
    for m in found:
        click.echo(f"{m.item} {m.counter}: counter {m.stored}, recount {m.recounted}")
    if fix:
        click.echo(f"fixed {len(found)} counter(s) from a full recount")
        return
    click.echo(f"{len(found)} counters differ; run `townhall doctor --fix` to recount", err=True)
    raise SystemExit(1)


@main.command()
@click.option(
    "--older-than",
    "older_than",
    required=True,
    metavar="AGE",
    help="e.g. 365d: people whose every item closed longer ago than this.",
)
def purge(older_than: str) -> None:
    """Erase raw platform identities of people who took part only in long-closed items."""
    from datetime import timedelta

    from storage.ledger import AuditLog
    from storage.people import PrivacyRepository

    match = re.fullmatch(r"(\d+)d", older_than.strip())
    if not match:
        raise click.BadParameter("use days, e.g. 365d", param_hint="--older-than")
    settings = _settings(quiet=True)

    async def go() -> int:
        async with _session(settings) as session:
            cutoff = utc_now() - timedelta(days=int(match.group(1)))
            count = await PrivacyRepository(session).purge_identities(cutoff)
            await AuditLog(session).record(
                "cli", "participants.purge", older_than, utc_now(), erased_identities=count
            )
            return count

    click.echo(f"Erased the platform identities of {_run(go())} participants.")


@main.group()
def roles() -> None:
    """Who is on the policy team, who moderates (subjects are platform:user_id)."""


async def _change_role(settings: Settings, action: str, subject: str, role: str) -> bool:
    from storage.ledger import AuditLog
    from storage.people import RoleRepository

    async with _session(settings) as session:
        repo = RoleRepository(session)
        now = utc_now()
        if action == "grant":
            changed = await repo.grant(subject, role, "cli", now)
        else:
            changed = await repo.revoke(subject, role)
        if changed:
            await AuditLog(session).record("cli", f"role.{action}", subject, now, role=role)
        return changed


def _check_subject(subject: str) -> None:
    from bot import identifiers

    platform, sep, user = subject.partition(":")
    if not (platform and sep and user):
        raise click.BadParameter(
            "expected platform:user_id, e.g. slack:U024BE7LH", param_hint="SUBJECT"
        )
    try:
        identifiers.check_subject(subject)
    except identifiers.IdentifierTooLong as exc:
        raise click.BadParameter(exc.message, param_hint="SUBJECT") from None


@roles.command("grant")
@click.argument("subject")
@click.argument("role", type=click.Choice(ROLES))
def roles_grant(subject: str, role: str) -> None:
    """Grant ROLE to SUBJECT (platform:user_id)."""
    _role_command(
        "grant", subject, role, f"Granted {role} to {subject}.", f"{subject} already has {role}"
    )


@roles.command("revoke")
@click.argument("subject")
@click.argument("role", type=click.Choice(ROLES))
def roles_revoke(subject: str, role: str) -> None:
    """Revoke ROLE from SUBJECT (platform:user_id)."""
    _role_command(
        "revoke",
        subject,
        role,
        f"Revoked {role} from {subject}.",
        f"{subject} does not have {role}",
    )


def _role_command(verb: str, subject: str, role: str, changed: str, unchanged: str) -> None:
    _check_subject(subject)
    if _run(_change_role(_settings(quiet=True), verb, subject, role)):
        click.echo(changed)
    else:
        click.echo(f"No change: {unchanged}.")


@roles.command("list")
@click.option("--json", "as_json", is_flag=True)
def roles_list(as_json: bool) -> None:
    """Roles granted in the database and from TOWNHALL_POLICY_TEAM / TOWNHALL_MODERATORS."""
    settings = _settings(quiet=True)

    from storage.people import RoleRepository

    async def go() -> list[dict[str, str]]:
        async with _session(settings) as session:
            grants = await RoleRepository(session).list()
            out = [{"subject": g.subject, "role": g.role, "source": "database"} for g in grants]
        out += [
            {"subject": s, "role": "policy", "source": "TOWNHALL_POLICY_TEAM"}
            for s in settings.policy_subjects
        ]
        out += [
            {"subject": s, "role": "moderator", "source": "TOWNHALL_MODERATORS"}
            for s in settings.moderator_subjects
        ]
        return out

    echo_listing(
        _run(go()),
        as_json,
        lambda row: f"{row['subject']:<30} {row['role']:<10} ({row['source']})",
        "No roles granted. Example: " + townhall_command("roles grant console:alice policy"),
    )


@main.command()
@click.option("--force", is_flag=True, help="Add the sample even if the database holds items.")
def demo(force: bool) -> None:
    """Fill the database with a realistic sample consultation, to try the dashboard."""
    from townhall import demo as sample

    sample.main(_settings(quiet=True), force=force)


if __name__ == "__main__":
    main()
