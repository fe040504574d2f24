"""Where a notice goes and what a button does, decided once for every platform.

Adapters declare :class:`~bot.adapter.Capabilities`; this module turns them into decisions the
adapter only renders:

- :func:`opens_form`: a form button (Answer) opens a form where the platform has forms
  (``modals``); elsewhere it is an ordinary action and the core answers with how to reply
  (:func:`asks_for_reply`: that answer must be read, not flash by).
- :func:`plan`: each notice goes in place (visible where the person acted), ephemeral (in
  place, seen by them only) or private (their direct messages), grouped in runs that share a
  route so an adapter can put a run in one message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.adapter import Capabilities
from bot.views import Card, View

#: Buttons that ask for free text (the Answer button).
FORM_ACTIONS = frozenset({"answer"})


def opens_form(action_id: str, capabilities: Capabilities) -> bool:
    """The button opens the platform's own form instead of being dispatched as an action."""
    return capabilities.modals and action_id in FORM_ACTIONS


def asks_for_reply(action_id: str, capabilities: Capabilities) -> bool:
    """A form button where there are no forms: the core's answer is a reply prompt."""
    return action_id in FORM_ACTIONS and not capabilities.modals


#: Buttons that move a person through a consultation (Skip, Next / Start): a card carrying one
#: is the next question, which a surface showing it some other way (the web chat's consultation
#: page) leaves out, and a surface that cannot keep it clickable (a Slack modal) sends apart.
NEXT_QUESTION_ACTIONS = frozenset({"skip", "consult"})


def is_next_question(view: View) -> bool:
    return isinstance(view, Card) and any(
        b.action_id in NEXT_QUESTION_ACTIONS for b in view.buttons
    )


def is_step(view: View) -> bool:
    """The next question, or an "about you" question (``profile`` buttons) on the way to it:
    a card that must stay clickable (the web chat's page shows only the former itself)."""
    return is_next_question(view) or (
        isinstance(view, Card) and any(b.action_id == "profile" for b in view.buttons)
    )


class Route(StrEnum):
    HERE = "here"  # in place: replies where the person acted, visible to whoever sees it
    EPHEMERAL = "ephemeral"  # in place, shown only to the person (a toast, an ephemeral reply)
    PRIVATE = "private"  # the person's direct messages with the bot


@dataclass(frozen=True, slots=True)
class Placement:
    route: Route
    views: tuple[View, ...]


def for_one_person(view: View, capabilities: Capabilities) -> bool:
    """Only its recipient may see it: confidential notices, and on platforms that keep cards
    out of shared chats (``private_cards``) every card."""
    # ``confidential`` is read leniently: older cores' views do not have it.
    if bool(getattr(view, "confidential", False)):
        return True
    return capabilities.private_cards and isinstance(view, Card)


def plan(
    notices: Sequence[View],
    capabilities: Capabilities,
    *,
    private_chat: bool = False,
    ephemeral: Callable[[View], bool] | None = None,
    in_place: bool = True,
) -> list[Placement]:
    """Route each notice, in order, grouped into runs with the same route.

    ``private_chat``: the person acted in their own chat with the bot, so in place is private.
    ``ephemeral``: which notices this surface can show to the person alone (None: none).
    ``in_place``: the surface can answer in place at all (a click on Telegram cannot; what
    does not fit its toast goes to the private chat).
    """
    runs: list[Placement] = []
    for view in notices:
        if ephemeral is not None and ephemeral(view):
            route = Route.EPHEMERAL
        elif in_place and (private_chat or not for_one_person(view, capabilities)):
            route = Route.HERE
        else:
            route = Route.PRIVATE
        if runs and runs[-1].route is route:
            runs[-1] = Placement(route, (*runs[-1].views, view))
        else:
            runs.append(Placement(route, (view,)))
    return runs
