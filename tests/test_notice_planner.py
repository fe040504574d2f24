"""The one notice planner and form decision (bot/notices.py), driven by Capabilities."""

from __future__ import annotations

from bot.adapter import Capabilities
from bot.notices import Placement, Route, asks_for_reply, opens_form, plan
from bot.views import Card, Notice

FORMS = Capabilities(modals=True, ephemeral=True)
NO_FORMS = Capabilities(modals=False, private_cards=True)


def test_a_form_button_opens_a_form_only_where_there_are_forms() -> None:
    assert opens_form("answer", FORMS)
    assert not opens_form("answer", NO_FORMS)
    assert not opens_form("vote", FORMS)
    assert asks_for_reply("answer", NO_FORMS)
    assert not asks_for_reply("answer", FORMS)
    assert not asks_for_reply("vote", NO_FORMS)


def test_in_a_shared_chat_what_is_for_one_person_goes_privately_in_runs() -> None:
    thanks, secret, card = Notice("Thanks."), Notice("Held.", confidential=True), Card("R")
    assert plan([thanks, secret, Notice("More.", confidential=True), card], NO_FORMS) == [
        Placement(Route.HERE, (thanks,)),
        Placement(Route.PRIVATE, (secret, Notice("More.", confidential=True), card)),
    ]
    # cards stay in place where the platform does not keep them out of shared chats
    assert plan([card], FORMS) == [Placement(Route.HERE, (card,))]


def test_in_a_private_chat_everything_is_in_place() -> None:
    secret = Card("Your data", confidential=True)
    assert plan([secret], NO_FORMS, private_chat=True) == [Placement(Route.HERE, (secret,))]


def test_a_surface_without_in_place_answers_shows_what_fits_and_sends_the_rest() -> None:
    short, card = Notice("Vote recorded."), Card("Results")
    routes = plan(
        [short, card],
        NO_FORMS,
        ephemeral=lambda view: isinstance(view, Notice),
        in_place=False,
    )
    assert routes == [Placement(Route.EPHEMERAL, (short,)), Placement(Route.PRIVATE, (card,))]
