"""The web chat's templates: GOV.UK Frontend macros (govuk-frontend-jinja) plus our own pages."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from bot.i18n import LANGUAGES, Translator, count, language_of
from bot.templating import govuk_environment

TEMPLATES = Path(__file__).parent / "templates"
#: GOV.UK Frontend as the shared web foundation serves it.
STYLESHEETS = ("/assets/govuk-frontend.min.css",)
SCRIPTS: tuple[str, ...] = ()
MODULE_SCRIPTS: tuple[str, ...] = ()
#: Pages under /c/ may be framed by any website (the embed snippet); nothing else may.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; form-action 'self'; base-uri 'self'; object-src 'none'; "
        "frame-ancestors *"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    return govuk_environment(TEMPLATES)


def render_page(request: web.Request, template: str, context: dict[str, Any], t: Translator) -> str:
    """The page in ``t``'s language: templates say ``t("...")`` and ``count(...)`` (extracted
    by ``scripts/i18n`` like the Python's), and ``<html lang>`` is the language's code."""
    language = language_of(t)

    def counted(singular: str, plural: str, n: int) -> str:
        return count(singular, plural, n, t)

    return (
        environment()
        .get_template(template)
        .render(
            stylesheets=STYLESHEETS,
            scripts=SCRIPTS,
            module_scripts=MODULE_SCRIPTS,
            t=t,
            count=counted,
            language=language,
            #: The other languages, each in its own name, for the page's switch.
            other_languages=[(code, name) for code, name in LANGUAGES.items() if code != language],
            **context,
        )
    )
