"""Settings for a CLI command: loaded and validated once, the same way for every command."""

from __future__ import annotations

import os

import click

from bot import logs
from bot.config import ConfigError, Settings, load_settings


def cli_settings(*, quiet: bool = False) -> Settings:
    """Load and validate settings (exit 2 with the reason when they are wrong); ``quiet`` logs
    only warnings unless TOWNHALL_LOG_LEVEL is set."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        click.echo(f"townhall: {exc}", err=True)
        raise SystemExit(2) from None
    level = settings.log_level
    if quiet and "TOWNHALL_LOG_LEVEL" not in os.environ:
        level = "WARNING"
    logs.configure(level, settings.log_format)
    return settings
