"""``townhall users``: dashboard accounts (email + password) for the policy team."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession

from bot import identifiers
from bot.config import Settings
from bot.hints import townhall_command
from storage import migrate
from storage.accounts import AccountExists, AccountRepository, normalise_email
from storage.db import Database
from storage.ledger import AuditLog
from storage.models import DASHBOARD_ROLES
from townhall.cli_output import echo_listing
from townhall.cli_settings import cli_settings

T = TypeVar("T")


def utc_now() -> datetime:
    from bot.context import utc_now as now  # the whole core: only when a command writes

    return now()


def _fail(message: str) -> SystemExit:
    click.echo(f"townhall: {message}", err=True)
    return SystemExit(1)


def _settings() -> Settings:
    return cli_settings(quiet=True)


def _in_session(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in one transaction on the configured database (migrated if configured)."""
    settings = _settings()

    async def go() -> T:
        db = Database(settings.database_url)
        try:
            if settings.auto_migrate:
                await migrate.ensure_current(db)
            async with db.transaction() as session:
                return await work(session)
        finally:
            await db.dispose()

    return asyncio.run(go())


def email_problem(email: str) -> str | None:
    """A loose check: one @, something before it, a dot inside the domain, no spaces."""
    local, at, domain = email.partition("@")
    if len(email) > 254 or any(c.isspace() for c in email):
        return "not a valid email address"
    if not (local and at and "." in domain.strip(".")) or "@" in domain:
        return "not a valid email address"
    try:
        identifiers.check_account_email(email)
    except identifiers.IdentifierTooLong:
        return f"too long for an account: at most {identifiers.SUBJECT - 10} characters"
    return None


def _email(raw: str) -> str:
    address = normalise_email(raw)
    problem = email_problem(address)
    if problem:
        raise _fail(f"{raw!r} is {problem}")
    return address


#: Tries on a terminal before giving up (each wrong one is explained and asked again).
PASSWORD_TRIES = 5


def _read_password() -> str:
    """On a terminal: asked, checked against the rule at once, then asked to repeat; a
    password that breaks the rule or a repeat that differs is explained and asked again.
    Otherwise the first line of standard input, checked once."""
    from dashboard.passwords import MIN_LENGTH, password_problem

    if not sys.stdin.isatty():
        password: str = sys.stdin.readline().rstrip("\r\n")
        problem = password_problem(password)
        if problem:
            raise _fail(f"{problem.lower()} (the password was not saved)")
        return password
    click.echo(f"Choose a password of {MIN_LENGTH} characters or more.")
    for _ in range(PASSWORD_TRIES):
        password = click.prompt("Password", hide_input=True)
        problem = password_problem(password)
        if problem:
            click.echo(f"{problem}. Try again.", err=True)
            continue
        if click.prompt("Repeat the password", hide_input=True) == password:
            return password
        click.echo("The two passwords did not match. Try again.", err=True)
    raise _fail("no password was set (too many tries)")


@click.group()
def users() -> None:
    """Dashboard accounts: who can sign in to the policy team's pages."""


@users.command("add")
@click.argument("email")
@click.option("--role", type=click.Choice(DASHBOARD_ROLES), required=True)
def users_add(email: str, role: str) -> None:
    """Create an account for EMAIL; the password is prompted for (or read from stdin)."""
    from dashboard.passwords import hash_password

    address = _email(email)
    password_hash = hash_password(_read_password())

    async def work(session: AsyncSession) -> bool:
        now = utc_now()
        try:
            await AccountRepository(session).add(address, password_hash, role, now)
        except AccountExists:
            return False
        await AuditLog(session).record("cli", "user.add", f"dashboard:{address}", now, role=role)
        return True

    if not _in_session(work):
        raise _fail(f"an account for {address} already exists")
    click.echo(f"Added {address} ({role}).")


@users.command("list")
@click.option("--json", "as_json", is_flag=True)
def users_list(as_json: bool) -> None:
    """Every dashboard account with its role and last sign-in."""

    async def work(session: AsyncSession) -> list[dict[str, str | None]]:
        return [
            {
                "email": u.email,
                "role": u.role,
                "created_at": u.created_at.isoformat(),
                "last_sign_in_at": u.last_sign_in_at.isoformat() if u.last_sign_in_at else None,
            }
            for u in await AccountRepository(session).list()
        ]

    echo_listing(
        _in_session(work),
        as_json,
        lambda row: (
            f"{row['email']:<40} {row['role']:<10} " + (row["last_sign_in_at"] or "never signed in")
        ),
        "No dashboard accounts. Example: "
        + townhall_command("users add you@example.gov.uk --role admin"),
    )


@users.command("remove")
@click.argument("email")
@click.option("--force", is_flag=True, help="Remove the account even if it is the last admin.")
def users_remove(email: str, force: bool) -> None:
    """Delete the account for EMAIL (not the last admin, unless --force)."""
    address = normalise_email(email)

    async def work(session: AsyncSession) -> str | None:
        repo = AccountRepository(session)
        user = await repo.by_email(address)
        if user is None:
            return f"no account for {address}"
        if user.role == "admin" and not force and await repo.count_with_role("admin") == 1:
            return (
                f"{address} is the last admin; add another admin first, "
                "or use --force to remove it anyway"
            )
        await repo.remove(user)
        await AuditLog(session).record("cli", "user.remove", f"dashboard:{address}", utc_now())
        return None

    problem = _in_session(work)
    if problem:
        raise _fail(problem)
    click.echo(f"Removed {address}.")


@users.command("set-password")
@click.argument("email")
def users_set_password(email: str) -> None:
    """Give EMAIL a new password (prompted for, or read from stdin)."""
    from dashboard.passwords import hash_password

    address = normalise_email(email)
    password_hash = hash_password(_read_password())

    async def work(session: AsyncSession) -> bool:
        repo = AccountRepository(session)
        user = await repo.by_email(address)
        if user is None:
            return False
        await repo.set_password(user, password_hash)
        await AuditLog(session).record("cli", "user.password", f"dashboard:{address}", utc_now())
        return True

    if not _in_session(work):
        raise _fail(f"no account for {address}")
    click.echo(f"Changed the password of {address}.")
