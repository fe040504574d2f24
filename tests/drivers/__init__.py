"""Platform drivers for the scenario suite, and the per-platform harnesses they build on.

``DRIVERS`` maps a platform to ``driver(db, clock, **settings)``, an async context manager
yielding a running :class:`tests.drivers.base.PlatformDriver`.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from tests.drivers.console import console_driver
from tests.drivers.discord import discord_driver
from tests.drivers.slack import slack_driver
from tests.drivers.telegram import telegram_driver
from tests.drivers.webchat import webchat_driver

DRIVERS: dict[str, Callable[..., AbstractAsyncContextManager[Any]]] = {
    "console": console_driver,
    "discord": discord_driver,
    "slack": slack_driver,
    "telegram": telegram_driver,
    "web": webchat_driver,
}
