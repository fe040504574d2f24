"""Screening of free text before it counts: abuse, personal data, spam.

Abuse uses alt-profanity-check, a maintained linear model trained on ~200k human-labelled
comments: it scores whole words in context, so place names that contain rude substrings
(Scunthorpe, Penistone) pass, and it catches insults a word list misses. Its limits: English
only, trained on internet comments, blind to abuse spelled out with spaces or emoji, and it
scores strong-but-civil language ("bollocks") as borderline; moderators see the reasons.

Personal data: email addresses, UK phone numbers (Google's libphonenumber via ``phonenumbers``),
National Insurance numbers, UK postcodes, payment card numbers (Luhn-checked with
``python-stdnum``) and URLs. Spam (repeats, floods) needs history and lives in the handlers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from typing import Any

import phonenumbers
from stdnum import luhn

ABUSE_THRESHOLD = 0.8
#: The spam rules' windows: a person's answers in the last ten minutes count towards a flood,
#: their answers of the last 30 days towards a repeat.
FLOOD_WINDOW = timedelta(minutes=10)
REPEAT_WINDOW = timedelta(days=30)

EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
URL = re.compile(
    r"\b(?:https?://|www\.)[^\s<>\"']+|\b[a-z0-9-]+\.(?:com|co\.uk|org|net|uk|io|ly|info|biz)"
    r"(?:/[^\s<>\"']*)?",
    re.IGNORECASE,
)
# National Insurance number: two letters, six digits, A-D suffix. Deliberately wider than
# HMRC's allocation rules: people also type the example "QQ 12 34 56 C" and typos of real ones.
NINO = re.compile(r"\b[A-Z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]\b", re.IGNORECASE)
POSTCODE = re.compile(
    r"\b(?:GIR\s?0AA|[A-PR-UWYZ](?:\d[A-HJKPSTUW\d]?|[A-HK-Y]\d[ABEHMNPRVWXY\d]?)\s?\d[ABD-HJLNP-UW-Z]{2})\b",
    re.IGNORECASE,
)
# UK numbers as people write them, including Ofcom's drama ranges that libphonenumber calls
# invalid: +44 or 0, then 9-10 more digits in groups.
UK_PHONE = re.compile(
    r"(?<![\w+])(?:\+44\s?(?:\(0\)\s?)?|\(?0)\d{2,4}\)?[\s-]?\d{3,4}[\s-]?\d{3,4}(?!\d)"
)
CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    kind: str


@dataclass(frozen=True, slots=True)
class Screening:
    """The verdict on one text: the reasons it was flagged (empty: clean) and where."""

    reasons: tuple[str, ...] = ()
    spans: tuple[Span, ...] = field(default=(), compare=False)
    abuse_score: float = 0.0

    @property
    def flagged(self) -> bool:
        return bool(self.reasons)

    @property
    def verdict(self) -> str:
        return "flag" if self.reasons else "ok"

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "abuse_score": round(self.abuse_score, 3),
        }


@lru_cache(maxsize=1)
def _abuse_model() -> Any:
    from profanity_check import predict_prob  # imports scikit-learn: load once, lazily

    return predict_prob


def abuse_score(text: str) -> float:
    return float(_abuse_model()([text])[0])


def personal_data(text: str) -> list[Span]:
    spans: list[Span] = []
    for match in EMAIL.finditer(text):
        spans.append(Span(match.start(), match.end(), "email"))
    for match in URL.finditer(text):
        if not any(s.start <= match.start() < s.end for s in spans):  # not inside an email
            spans.append(Span(match.start(), match.end(), "url"))
    for match in NINO.finditer(text):
        spans.append(Span(match.start(), match.end(), "nino"))
    phones = [
        (found.start, found.end)
        for found in phonenumbers.PhoneNumberMatcher(
            text, "GB", leniency=phonenumbers.Leniency.VALID
        )
    ]
    for match in UK_PHONE.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        national = "0" + digits[2:] if match.group().startswith("+") else digits
        if national.startswith("0") and len(national) in (10, 11):
            phones.append((match.start(), match.end()))
    for start, end in phones:
        if not any(s.start < end and start < s.end for s in spans):
            spans.append(Span(start, end, "phone"))
    for match in POSTCODE.finditer(text):
        spans.append(Span(match.start(), match.end(), "postcode"))
    for match in CARD.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if 13 <= len(digits) <= 19 and luhn.is_valid(digits):
            spans = [
                s
                for s in spans
                if not (s.kind == "phone" and s.start >= match.start() and s.end <= match.end())
            ]
            spans.append(Span(match.start(), match.end(), "card"))
    return sorted(spans, key=lambda s: s.start)


def screen_text(text: str) -> Screening:
    """Abuse and personal data in one text (no history: see spam checks in moderation)."""
    reasons: list[str] = []
    score = abuse_score(text)
    if score >= ABUSE_THRESHOLD:
        reasons.append("abuse")
    spans = personal_data(text)
    for kind in dict.fromkeys(s.kind for s in spans):
        reasons.append(f"personal:{kind}")
    return Screening(tuple(reasons), tuple(spans), score)


def redact(text: str) -> str:
    """The text with every piece of personal data replaced by a marker; the rest kept."""
    out, last = [], 0
    for span in personal_data(text):
        if span.start < last:
            continue
        out.append(text[last : span.start])
        out.append(f"[{span.kind} removed]")
        last = span.end
    out.append(text[last:])
    return "".join(out)


def normalise(text: str) -> str:
    """For spotting repeats: case, punctuation and spacing ignored."""
    return " ".join(re.sub(r"[^\w\s]", "", text.casefold()).split())
