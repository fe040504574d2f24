"""Jinja environments for Townhall's HTML pages, with the GOV.UK Frontend macros."""

from __future__ import annotations

from pathlib import Path

import jinja2


def govuk_environment(templates: Path) -> jinja2.Environment:
    """Our templates in ``templates``, plus govuk-frontend-jinja's under ``govuk_frontend_jinja/``.

    Autoescaped; undefined values chain (the GOV.UK macros probe optional parameters).
    """
    loader = jinja2.ChoiceLoader(
        [
            jinja2.FileSystemLoader(templates),
            jinja2.PrefixLoader(
                {"govuk_frontend_jinja": jinja2.PackageLoader("govuk_frontend_jinja")}
            ),
        ]
    )
    return jinja2.Environment(
        loader=loader,
        autoescape=True,
        undefined=jinja2.ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
