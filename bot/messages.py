"""The core's catalogue of what adapters say on their own (acknowledgements, apologies).

Handlers translate through ``ctx.t``; adapters have no Context, so every sentence a person
reads from an adapter is declared here and said through :func:`say`, the same translation
hook. A second language (issue 18) changes this catalogue and the translator, never an
adapter. ``tests/test_adapter_text.py`` fails when an adapter passes its own English to a
send/notify/respond call.
"""

from __future__ import annotations

from typing import Any

from bot.i18n import N_, Translator, identity_translator

# -- the database could not commit: nothing was recorded -----------------------------------
DB_DOWN = N_(
    "Sorry, Townhall can't reach its database right now, so nothing was recorded. "
    "Please try again in a minute."
)
NOTHING_SAVED = N_(
    "Sorry, Townhall cannot save anything right now, so nothing was changed. "
    "Please try again in a minute."
)
NOT_SAVED_SHORT = N_("Sorry, this could not be saved just now. Please send it again in a minute.")
CLICK_FAILED = N_("Sorry, that did not go through. Please try again in a moment.")
MESSAGE_FAILED = N_(
    "Sorry, we could not save that just now. Nothing was recorded: please send it again in a "
    "minute."
)
DATABASE_SILENT = N_("Sorry, the database is not answering; please try again.")

# -- acknowledgements ------------------------------------------------------------------------
WORKING = N_("Working on it…")
SAVING = N_("Saving your answer…")
ALREADY = N_("That was already handled.")
DONE = N_("Done.")
THANK_YOU = N_("Thank you.")
UNCHANGED = N_("Nothing changed: your choices are as before.")
SENT_TWICE = N_("We already have that: the form was sent twice.")

# -- a form's fields (the web chat) ------------------------------------------------------------
ENTER_ANSWER = N_("Enter your answer")
ANSWER_TOO_LONG = N_("Your answer must be {limit} characters or fewer")
SELECT_SOME = N_("Select at least one option")
SELECT_ONE = N_("Select one option")

# -- private answers -------------------------------------------------------------------------
SENT_PRIVATELY = N_("I've sent you that in our private chat.")
OPEN_PRIVATE_CHAT = N_(
    "I can't message you privately yet: open a chat with @{bot}, press Start, then try again."
)
PRIVATE_FAILED = N_("Sorry, I couldn't send you that privately. Please try again.")
DMS_CLOSED = N_(
    "I have a private answer for you but can't send you a direct message. Please allow direct "
    "messages from this server's members, or use /townhall here."
)

CANNOT_POST = N_(
    "I can't post in {where}: I'm missing the {missing} permission{s} here, so nothing was "
    "published. Ask a server admin to give the Townhall role these permissions in this "
    "channel, or run the command in a channel where I can post."
)
IN_THIS_THREAD = N_("this thread")
IN_THIS_CHANNEL = N_("this channel")


def say(message: str, /, t: Translator = identity_translator, **values: Any) -> str:
    """One catalogue message in the person's language (``t``: the translator for them)."""
    return t(message, **values)
