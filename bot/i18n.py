"""The languages a citizen can read Townhall in, and the translator for each (issue 18).

English is the source language: the messages in the code are the English text, so an English
reader gets them unchanged (byte for byte). Other languages come from gettext catalogues in
``bot/locale/<lang>/LC_MESSAGES/townhall.po``, extracted with ``scripts/i18n extract`` and
compiled here, at first use, from the ``.po`` into memory (no ``.mo`` binary is committed or
needed). Messages keep Python's ``{name}`` placeholders; they are filled after the lookup.
See docs/translating.md.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable, Iterable
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "townhall"
SOURCE = "en"
#: The languages shipped, each with its own name (how a language switch offers it).
LANGUAGES: dict[str, str] = {"en": "English", "cy": "Cymraeg"}

Translator = Callable[..., str]
#: What marks a message for ``pybabel extract`` (scripts/i18n, the catalogue test): the
#: translator ``t(...)``/``ctx.t(...)``, ``say(...)``, the ``N_(...)`` mark, and
#: ``count(singular, plural, n, t)`` for counted nouns (arguments 1 and 2).
EXTRACT_KEYWORDS: dict[str, tuple[int, ...] | None] = {
    "t": None,
    "N_": None,
    "say": None,
    "count": (1, 2),
}
#: Placeholders only English grammar needs (a plural "s"): a translation may leave them out.
ENGLISH_ONLY_PLACEHOLDERS = frozenset({"s"})


def N_(message: str) -> str:
    """Mark a message for extraction where it is declared; it is translated where it is said."""
    return message


def catalogue_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def _translations(language: str) -> gettext.NullTranslations:
    """The language's catalogue compiled from its ``.po`` in memory (once per process)."""
    if language == SOURCE or language not in LANGUAGES:
        return gettext.NullTranslations()
    return compile_catalogue(catalogue_path(language), language)


def compile_catalogue(path: Path, language: str) -> gettext.GNUTranslations:
    """A ``.po`` file compiled in memory, as a ``.mo`` would be (fuzzy entries left out)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with path.open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)  # a fuzzy guess falls back to English
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def _fill(text: str, values: dict[str, Any]) -> str:
    return text.format(**values) if values else text


def identity_translator(message: str, /, **values: Any) -> str:
    """English, the source language: the message itself with its placeholders filled."""
    return _fill(message, values)


@cache
def translator_for(language: str) -> Translator:
    """The translator for a language code (``cy``); English for the source or an unknown code."""
    if language not in LANGUAGES or language == SOURCE:
        return identity_translator
    found = _translations(language)

    def translate(message: str, /, **values: Any) -> str:
        return _fill(found.gettext(message) if message else message, values)

    translate.language = language  # type: ignore[attr-defined]
    return translate


def count(singular: str, plural: str, n: int, t: Translator) -> str:
    """``{n}`` things in ``t``'s language and its plural rules (Welsh has six forms, CLDR)."""
    return _translations(language_of(t)).ngettext(singular, plural, n).format(n=n)


def language_of(translator: Translator) -> str:
    """Which language a translator speaks (``en`` for the source or a custom one)."""
    return str(getattr(translator, "language", SOURCE))


def supported(code: str | None) -> str | None:
    """A platform's or browser's language tag as one we ship: ``cy-GB`` -> ``cy``; else None."""
    if not code:
        return None
    primary = code.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in LANGUAGES else None


def from_accept_language(header: str | None) -> str | None:
    """The first language we ship in an HTTP ``Accept-Language`` header, by its q weights."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        ranked.append((-weight, position, tag))
    for weight, _position, tag in sorted(ranked):
        language = supported(tag)
        if language is not None and weight < 0:
            return language
    return None


def choose(*candidates: str | None, default: str = SOURCE) -> str:
    """The first candidate that is a shipped language, else ``default`` (else English)."""
    for candidate in candidates:
        language = supported(candidate)
        if language is not None:
            return language
    return supported(default) or SOURCE


def for_person(
    given: Translator, chosen: str | None, platform_says: str, default: str
) -> Translator:
    """The translator for one person: the language they chose, else the one their platform
    says, else the instance default. A translator handed in on purpose (not the English
    default, e.g. a test's) is kept as it is."""
    if given is not identity_translator:
        return given
    return translator_for(choose(chosen, platform_says, default=default))


def available() -> Iterable[str]:
    return LANGUAGES.keys()
