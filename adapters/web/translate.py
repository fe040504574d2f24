"""Web chat forms to core events: a vote, toggles of a multi-choice, an answer, a button.

Every form carries a random submission id (``sub``), rendered with the page. It is the event id,
so a form sent twice (a double click, a reload that re-posts) is applied once by the core.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from adapters.web.links import PUBLIC_CHANNEL
from bot.adapter import Capabilities
from bot.events import Actor, Event, EventKind, Target
from bot.i18n import LANGUAGES
from bot.inputs import parse_int

PLATFORM = "web"
#: What the web chat offers the core (``WebChatAdapter.capabilities``).
#: In-process, an interrupted send never reached anyone: sends are idempotent.
CAPABILITIES = Capabilities(modals=True, ephemeral=True, max_text=4000, idempotent_sends=True)
SUBMISSION = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
#: Buttons a page may press: core action ids are short lowercase words.
ACTION_ID = re.compile(r"^[a-z][a-z_]{0,30}$")
#: Commands a citizen can send from the web chat's privacy section.
COMMANDS = ("privacy", "mydata", "forget", "stop")
#: The page's language switch sends ``language cy`` / ``language en``, like typing it in chat.
LANGUAGE_COMMANDS = {f"language {code}": code for code in LANGUAGES}


class FormError(ValueError):
    """The form is not something our pages send (tampered or stale): 400."""


def _event(
    visitor_id: str,
    event_id: str,
    kind: EventKind,
    item_id: str = "",
    language: str = "",
    **fields: str,
) -> Event:
    if not SUBMISSION.match(event_id.rsplit(":", 1)[0]):
        raise FormError("missing or malformed submission id")
    return Event(
        PLATFORM,
        event_id,
        kind,
        # ``language``: what the browser says (the page's switch, else Accept-Language).
        Actor(visitor_id, language=language),
        # Answers remember where they were written: the web chat, this submission.
        Target(PUBLIC_CHANNEL, message_id=event_id, private=True),
        **fields,  # type: ignore[arg-type]
    )


def vote(
    visitor_id: str, submission: str, item_id: str, position: int, language: str = ""
) -> Event:
    """Single choice and scales: choose one option (the core replaces an earlier choice)."""
    return _event(
        visitor_id,
        submission,
        EventKind.ACTION,
        item_id,
        language,
        action_id="vote",
        action_value=f"{item_id}:{position}",
    )


def toggles(
    visitor_id: str,
    submission: str,
    item_id: str,
    wanted: Collection[int],
    chosen: Collection[int],
    language: str = "",
) -> list[Event]:
    """Multi choice: the core toggles one option per click, so send one per changed box.

    Each gets its own event id derived from the submission: a re-sent form toggles nothing twice.
    """
    changed = sorted(set(wanted) ^ set(chosen))
    return [
        vote(visitor_id, f"{submission}:{position}", item_id, position, language)
        for position in changed
    ]


def answer(visitor_id: str, submission: str, item_id: str, text: str, language: str = "") -> Event:
    """An answer to an open question, as a form submission."""
    return _event(
        visitor_id,
        submission,
        EventKind.SUBMIT,
        item_id,
        language,
        action_id="answer",
        action_value=item_id,
        text=text,
    )


def button(
    visitor_id: str, submission: str, item_id: str, custom_id: str, language: str = ""
) -> Event:
    """Any card button (consent, forget ...): ``action_id:value`` as rendered."""
    action_id, sep, value = custom_id.partition(":")
    if not sep or not ACTION_ID.match(action_id) or len(custom_id.encode()) > 64:
        raise FormError("not a button")
    return _event(
        visitor_id,
        submission,
        EventKind.ACTION,
        item_id,
        language,
        action_id=action_id,
        action_value=value,
    )


def command(visitor_id: str, submission: str, item_id: str, name: str, language: str = "") -> Event:
    """One of the citizen's privacy commands (privacy, mydata, forget), or the language
    switch's ``language cy`` / ``language en``."""
    if name not in COMMANDS and name not in LANGUAGE_COMMANDS:
        raise FormError("not a command the web chat offers")
    return _event(visitor_id, submission, EventKind.COMMAND, item_id, language, text=name)


def positions(values: Iterable[str], count: int) -> list[int]:
    """Option positions from form values ("1".."count"); anything else is a tampered form."""
    out = []
    for value in values:
        number = parse_int(value, low=1, high=count)
        if number is None:
            raise FormError("no such option")
        out.append(number)
    return sorted(set(out))
