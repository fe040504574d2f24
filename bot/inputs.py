"""Untrusted input made safe in one place: numbers, control characters, invisible text.

``str.isdigit()`` accepts superscripts and other scripts' digits that ``int()`` then rejects or
reads, and nothing bounds the size; PostgreSQL refuses NUL in text; an answer of zero-width
characters looks empty to a reader. Adapters and handlers use these helpers instead.
"""

from __future__ import annotations

import re
import unicodedata

#: The largest value of a BIGINT column (answer ids, ...).
BIGINT_MAX = 2**63 - 1
#: The largest value of an INTEGER column (option positions, pages, ...).
INT_MAX = 2**31 - 1

_ASCII_DIGITS = re.compile(r"[0-9]{1,19}")
#: C0 controls and DEL except tab, newline and carriage return; NUL among them.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def parse_int(text: str, *, low: int = 0, high: int = BIGINT_MAX) -> int | None:
    """``text`` as an int when it is only ASCII digits within ``low``..``high``; else None."""
    if not isinstance(text, str) or not _ASCII_DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if low <= value <= high else None


def clean(text: str) -> str:
    """Drop control characters (NUL and the like) that no person means to send."""
    return _CONTROLS.sub("", text)


def is_blank(text: str) -> bool:
    """True when nothing visible is left: only whitespace, zero-width and format characters."""
    return all(c.isspace() or unicodedata.category(c) in ("Cf", "Cc", "Zs") for c in text)
