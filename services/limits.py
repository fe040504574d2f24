"""What an item may hold, checked the same way in chat commands and on the dashboard."""

from __future__ import annotations

MAX_QUESTION = 300
MAX_OPTION = 75  # Slack button text limit; Telegram and Discord allow more
MIN_OPTIONS, MAX_OPTIONS = 2, 10
