"""Why an answer was flagged, in words: the one mapping from screening codes to what people read.

The codes (``personal:phone``, ``spam:repeat``) stay what is stored, exported and audited;
the dashboard and the chat show these words instead.
"""

from __future__ import annotations

from collections.abc import Iterable

WORDS = {
    "abuse": "Abusive language",
    "personal:email": "Email address",
    "personal:phone": "Phone number",
    "personal:nino": "National Insurance number",
    "personal:postcode": "Postcode",
    "personal:card": "Payment card number",
    "personal:url": "Web address",
    "spam:repeat": "Repeated message",
    "spam:flood": "Too many messages at once",
    "reported": "Reported by someone",
    "reported:after-review": "Reported again after a moderator's decision",
}


def reason_words(code: str) -> str:
    """``personal:phone`` → "Phone number"; an unknown code is shown as it is."""
    if code in WORDS:
        return WORDS[code]
    return code.split(":", 1)[-1].replace("_", " ").capitalize() if code else "Other"


def describe(codes: Iterable[str]) -> str:
    """The reasons as one line ("Phone number, Repeated message"); "Reported by someone"
    when no screening rule flagged it (it is in the queue because a person reported it)."""
    return ", ".join(reason_words(c) for c in codes) or WORDS["reported"]
