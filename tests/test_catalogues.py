"""The message catalogues are complete (issue 18): every message the code marks for translation
is translated in every shipped language, nothing is fuzzy, and each translation keeps the
English message's ``{placeholders}`` (a missing one would show "{label}", an extra one raise).

Extraction runs here over the code as it is (babel.cfg, the same keywords as scripts/i18n),
so a new ``ctx.t("...")`` without its Welsh fails until ``scripts/i18n extract`` and
``scripts/i18n update`` are run and the Welsh written (docs/translating.md).
"""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from bot.i18n import (
    ENGLISH_ONLY_PLACEHOLDERS,
    EXTRACT_KEYWORDS,
    LANGUAGES,
    SOURCE,
    catalogue_path,
    choose,
    count,
    from_accept_language,
    translator_for,
)

ROOT = Path(__file__).resolve().parent.parent
TRANSLATED = [language for language in LANGUAGES if language != SOURCE]


def _extracted() -> dict[str, tuple[str, ...]]:
    """msgid -> all its forms (singular, plural), as pybabel extract finds them now."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[str, tuple[str, ...]] = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=EXTRACT_KEYWORDS
    ):
        forms = message if isinstance(message, tuple) else (message,)
        if forms[0]:
            found[forms[0]] = tuple(f for f in forms if f)
    return found


EXTRACTED = _extracted()


def _catalogue(language: str) -> Catalog:
    with catalogue_path(language).open("rb") as po:
        return read_po(po, locale=language)


def _fields(text: str) -> set[str]:
    """``{name}``/``{value!r}`` placeholders of a format string: name plus conversion."""
    return {
        f"{name}!{conversion}" if conversion else name
        for _literal, name, _spec, conversion in string.Formatter().parse(text)
        if name is not None
    }


def test_extraction_finds_the_citizen_messages() -> None:
    """The extraction map and keywords reach the catalogue, the handlers and the adapters."""
    assert "Thanks, your vote for “{label}” is recorded." in EXTRACTED  # N_ in a dict
    assert "Skip" in EXTRACTED  # ctx.t
    assert "Working on it…" in EXTRACTED  # bot/messages.py
    assert EXTRACTED["{n} vote"] == ("{n} vote", "{n} votes")  # count(...)


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated_without_fuzzy_entries(language: str) -> None:
    catalogue = _catalogue(language)
    missing = [msgid for msgid in EXTRACTED if msgid not in catalogue]
    assert not missing, f"{language}: run scripts/i18n extract && scripts/i18n update: {missing}"
    fuzzy = [m.id for m in catalogue if m.id and m.fuzzy]
    assert not fuzzy, f"{language}: fuzzy entries fall back to English: {fuzzy}"
    empty = [m.id for m in catalogue if m.id and not _forms(m, catalogue) and m.id in EXTRACTED]
    assert not empty, f"{language}: untranslated: {empty}"


def _forms(message: Message, catalogue: Catalog) -> tuple[str, ...]:
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    if not all(strings):
        return ()
    if message.pluralizable:
        assert len(strings) == catalogue.num_plurals, message.id
    return tuple(strings)


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_the_placeholders(language: str) -> None:
    catalogue = _catalogue(language)
    wrong = []
    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        english = set().union(*(_fields(i) for i in ids))
        for translated in _forms(message, catalogue):
            mine = _fields(translated)
            if mine != english and not (
                mine < english and english - mine <= ENGLISH_ONLY_PLACEHOLDERS
            ):
                wrong.append((ids[0], translated))
    assert not wrong, wrong


def test_welsh_comes_from_the_catalogue_and_english_is_the_code_itself() -> None:
    welsh, english = translator_for("cy"), translator_for("en")
    assert welsh("Skip") == "Hepgor"
    assert welsh("Thanks, your vote for “{label}” is recorded.", label="Cytuno") == (
        "Diolch, mae eich pleidlais dros “Cytuno” wedi’i chofnodi."
    )
    assert english("Your vote is now “{label}”.", label="Yes") == "Your vote is now “Yes”."
    assert welsh("A label the catalogue has never seen") == "A label the catalogue has never seen"
    assert count("{n} vote", "{n} votes", 2, english) == "2 votes"
    assert count("{n} vote", "{n} votes", 1, english) == "1 vote"
    assert count("{n} vote", "{n} votes", 3, welsh) == "3 pleidlais"


def test_languages_from_platform_tags_and_headers() -> None:
    assert choose("cy-GB") == "cy"
    assert choose(None, "", "fr", default="en") == "en"
    assert choose(None, "en-US", default="cy") == "en"
    assert choose(None, None, default="cy") == "cy"
    assert from_accept_language("fr;q=0.9, cy;q=0.8, en;q=0.7") == "cy"
    assert from_accept_language("en-GB,en;q=0.9,cy;q=0.8") == "en"
    assert from_accept_language("cy;q=0") is None
    assert from_accept_language("de") is None
