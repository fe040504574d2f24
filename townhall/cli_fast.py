"""The fast path of ``townhall results`` and ``townhall list``: no pydantic, no SQLAlchemy.

Scripts call ``townhall results ID --json`` often, so its start-up is most of its cost. When the
environment is plain (every ``TOWNHALL_*`` variable set is one :func:`quick_database_url`
checks, no ``.env`` file, logging at WARNING or quieter) these commands read through
:mod:`storage.fastread` and print with the same functions as the ordinary path. Anything else
(a bad value included) returns None and the command takes the ordinary path, whose settings
validation gives the usual messages: this check may only ever accept less than pydantic does.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

#: Free text in Settings (``str`` or ``SecretStr | None`` with no validator): any value is valid.
_FREE = frozenset(
    {
        "http_host",
        "metrics_host",
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        "slack_api_url",
        "telegram_token",
        "telegram_api_url",
        "discord_token",
        "discord_api_url",
        "discord_gateway_url",
        "discord_guild_ids",
        "discord_policy_role",
        "redis_url",
        "privacy_notice",
        "privacy_url",
    }
)
_LITERALS = {
    "env": ("development", "production", "test"),
    "log_format": ("console", "json"),
    # INFO and DEBUG may log (SQLAlchemy's statements among them): the ordinary path does that.
    "log_level": ("WARNING", "ERROR"),
    "consent": ("explicit", "notice"),
    # "database" and "redis" depend on other settings: pydantic decides those.
    "shared_state": ("auto", "memory"),
}
_BOOLS = ("true", "false", "1", "0", "yes", "no", "on", "off")
_PORTS = ("http_port", "metrics_port")
_DEV_SECRET = "development-only-secret-key-change-me"  # noqa: S105 - bot.config.DEV_SECRET
_DB_PREFIXES = ("sqlite+aiosqlite://", "postgresql+asyncpg://")


def _valid(name: str, value: str) -> bool:
    if name in _FREE:
        return True
    if name in _LITERALS:
        return value in _LITERALS[name]
    if name in _PORTS:
        return re.fullmatch(r"0|[1-9][0-9]{0,4}", value) is not None and int(value) <= 65535
    if name in ("auto_migrate", "outbox_rate_limits", "discord_thread_answers"):
        return value in _BOOLS
    if name == "database_url":
        return value.startswith(_DB_PREFIXES)
    if name == "secret_key":
        return len(value) >= 16
    if name in ("policy_team", "moderators"):
        return all(_subject(part.strip()) for part in value.split(",") if part.strip())
    return False  # a setting this check does not know: pydantic decides


def _subject(subject: str) -> bool:
    platform, sep, user = subject.partition(":")
    return bool(platform and sep and user)


def quick_database_url(environ: Mapping[str, str], cwd: Path) -> str | None:
    """The database URL when the settings are certainly valid; None when pydantic must look."""
    if (cwd / ".env").exists():
        return None
    values: dict[str, str] = {}
    for key, value in environ.items():
        if not key.upper().startswith("TOWNHALL_"):
            continue
        name = key[len("TOWNHALL_") :].lower()
        if name in values or not _valid(name, value):  # twice in different case, or unsure
            return None
        values[name] = value
    secret = values.get("secret_key", _DEV_SECRET)
    if values.get("env") == "production" and secret == _DEV_SECRET:
        return None
    return values.get("database_url", "sqlite+aiosqlite:///./townhall.db")


def _url() -> str | None:
    return quick_database_url(os.environ, Path.cwd())


def try_list(as_json: bool, status: str | None) -> bool:
    """``townhall list`` on the fast path; False when the ordinary path must answer."""
    from storage import fastread
    from storage.revisions import SchemaBehind

    url = _url()
    if url is None:
        return False
    try:
        rows = fastread.run(url, fastread.list_items(status, 1000))
    except fastread.Unavailable:
        return False
    except SchemaBehind as behind:
        raise schema_behind(behind) from None
    from townhall.cli_output import echo_items

    keys = ("id", "kind", "question", "status")
    echo_items([dict(zip(keys, row, strict=True)) for row in rows], as_json)
    return True


def try_results(item_id: str, as_json: bool, include_hidden: bool) -> bool:
    """``townhall results ID`` on the fast path; False when the ordinary path must answer."""
    from storage import fastread
    from storage.revisions import SchemaBehind

    url = _url()
    if url is None:
        return False
    try:
        found = fastread.run(url, fastread.item_results(item_id, include_hidden))
    except fastread.Unavailable:
        return False
    except SchemaBehind as behind:
        raise schema_behind(behind) from None
    from services.results import AnswerRow, ItemResults, OptionResult
    from townhall.cli_output import echo_results, no_item

    if found is None:
        raise no_item(item_id)
    if found.kind == "statements":  # the opinion groups are computed on the ordinary path
        return False
    res = ItemResults(
        found.id,
        found.kind,
        found.question,
        found.status,
        found.participants,
        found.responses,
        options=[
            OptionResult(n, label, votes, percent)
            for n, (label, votes, percent) in enumerate(found.options, start=1)
        ],
        by_platform=found.by_platform,
        answers=[
            AnswerRow(text, platform, status, "", language or "")
            for text, platform, status, language in found.answers
        ],
    )
    echo_results(res, as_json)
    return True


def schema_behind(behind: Exception) -> SystemExit:
    """One line instead of a traceback: the read-only commands never migrate."""
    import click

    from bot.hints import townhall_command
    from storage.revisions import SchemaBehind

    assert isinstance(behind, SchemaBehind)
    upgrade = townhall_command("db upgrade")
    if not behind.found:
        click.echo(f"townhall: the database has no Townhall schema yet; run `{upgrade}`", err=True)
    else:
        click.echo(
            f"townhall: the database schema is at revision {', '.join(sorted(behind.found))}, "
            f"this version of Townhall needs {', '.join(sorted(behind.heads))}; run `{upgrade}`",
            err=True,
        )
    return SystemExit(2)
