"""How each platform is named to people (dashboard lists, filters, exports)."""

from __future__ import annotations

PLATFORM_NAMES = {"slack": "Slack", "telegram": "Telegram", "discord": "Discord", "web": "Web chat"}


def platform_name(platform: str) -> str:
    """``"web"`` → ``"Web chat"``; a platform we do not know by name is title-cased."""
    return PLATFORM_NAMES.get(platform, platform.title())
