"""Which adapters start: each one whose credentials are set (README: Configuration)."""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from bot.adapter import Adapter, Disabled
from bot.config import Settings
from bot.grammar import CommandSpec

# platform -> (module with ``from_settings(settings) -> Adapter``, required settings)
PLATFORMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "telegram": ("adapters.telegram", ("telegram_token",)),
    "slack": ("adapters.slack", ("slack_bot_token", "slack_signing_secret")),
    "discord": ("adapters.discord", ("discord_token",)),
}


def configured_adapters(
    settings: Settings, commands: Sequence[CommandSpec] = ()
) -> tuple[list[Adapter], list[Disabled]]:
    """Each platform with credentials; ``commands`` (the core's) make their command menus."""
    on: list[Adapter] = []
    off: list[Disabled] = []
    for name, (module_name, required) in PLATFORMS.items():
        missing = [f"TOWNHALL_{r.upper()}" for r in required if getattr(settings, r) is None]
        if missing:
            off.append(Disabled(name, f"{' and '.join(missing)} not set"))
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            off.append(Disabled(name, "adapter not available in this version"))
            continue
        on.append(module.from_settings(settings, commands))
    on.append(_web_chat(settings))  # always on: /c/<item id> needs no credentials
    return on, off


def _web_chat(settings: Settings) -> Adapter:
    """The web chat; ``townhall.webchat.connect`` gives it the app's database once it exists."""
    from adapters.web import WebChatAdapter

    return WebChatAdapter(settings)
