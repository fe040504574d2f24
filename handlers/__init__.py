"""Feature routers: behaviour written once for every platform."""

from __future__ import annotations

from bot.grammar import CommandSpec
from bot.router import Router


def all_routers() -> list[Router]:
    from handlers import admin, consultations, moderation, polls, privacy, questions, statements

    return [
        polls.router,
        questions.router,
        moderation.router,
        privacy.router,
        admin.router,
        consultations.router,
        statements.router,
    ]


def all_specs() -> list[CommandSpec]:
    from handlers.publishing import with_form

    return [
        with_form(route.spec) for r in all_routers() for route in r.commands.values() if route.spec
    ]
