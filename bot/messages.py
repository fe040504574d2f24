"""The core's catalogue of what adapters say on their own (acknowledgements, apologies).

Handlers translate through ``ctx.t``; adapters have no Context, so every sentence a person
reads from an adapter is declared here and said through :func:`say`, the same translation
hook. A second language (issue 18) changes this catalogue and the translator, never an
adapter. ``tests/test_adapter_text.py`` fails when an adapter passes its own English to a
send/notify/respond call.
"""

from __future__ import annotations

from typing import Any

from bot.context import Translator, identity_translator

# -- the database could not commit: nothing was recorded -----------------------------------
DB_DOWN = (
    "Sorry, Townhall can't reach its database right now, so nothing was recorded. "
    "Please try again in a minute."
)
NOTHING_SAVED = (
    "Sorry, Townhall cannot save anything right now, so nothing was changed. "
    "Please try again in a minute."
)
NOT_SAVED_SHORT = "Sorry, this could not be saved just now. Please send it again in a minute."
CLICK_FAILED = "Sorry, that did not go through. Please try again in a moment."
MESSAGE_FAILED = (
    "Sorry, we could not save that just now. Nothing was recorded: please send it again in a "
    "minute."
)
DATABASE_SILENT = "Sorry, the database is not answering; please try again."

# -- acknowledgements ------------------------------------------------------------------------
WORKING = "Working on it…"
SAVING = "Saving your answer…"
ALREADY = "That was already handled."
DONE = "Done."
THANK_YOU = "Thank you."
UNCHANGED = "Nothing changed: your choices are as before."
SENT_TWICE = "We already have that: the form was sent twice."

# -- a form's fields (the web chat) ------------------------------------------------------------
ENTER_ANSWER = "Enter your answer"
ANSWER_TOO_LONG = "Your answer must be {limit} characters or fewer"
SELECT_SOME = "Select at least one option"
SELECT_ONE = "Select one option"

# -- private answers -------------------------------------------------------------------------
SENT_PRIVATELY = "I've sent you that in our private chat."
OPEN_PRIVATE_CHAT = (
    "I can't message you privately yet: open a chat with @{bot}, press Start, then try again."
)
PRIVATE_FAILED = "Sorry, I couldn't send you that privately. Please try again."
DMS_CLOSED = (
    "I have a private answer for you but can't send you a direct message. Please allow direct "
    "messages from this server's members, or use /townhall here."
)

CANNOT_POST = (
    "I can't post in {where}: I'm missing the {missing} permission{s} here, so nothing was "
    "published. Ask a server admin to give the Townhall role these permissions in this "
    "channel, or run the command in a channel where I can post."
)
IN_THIS_THREAD = "this thread"
IN_THIS_CHANNEL = "this channel"


def say(message: str, /, t: Translator = identity_translator, **values: Any) -> str:
    """One catalogue message in the person's language (English until a catalogue exists)."""
    return t(message, **values)
