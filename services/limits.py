"""What an item may hold, checked the same way in chat commands and on the dashboard."""

from __future__ import annotations

MAX_QUESTION = 300
MAX_OPTION = 75  # Slack button text limit; Telegram and Discord allow more
MIN_OPTIONS, MAX_OPTIONS = 2, 10
#: A statements item's statements are short, as in Polis (which allows 140 characters).
MAX_STATEMENT = 280
MAX_SEEDS = 50
