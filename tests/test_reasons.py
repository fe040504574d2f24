"""Moderation reasons in words: one mapping for the dashboard and the chat."""

from __future__ import annotations

from services.reasons import WORDS, describe, reason_words
from services.screening import screen_text


def test_codes_become_words() -> None:
    assert describe(["personal:phone", "spam:repeat"]) == "Phone number, Repeated message"
    assert describe([]) == "Reported by someone"
    assert reason_words("personal:passport") == "Passport"  # a future code still reads


def test_every_code_screening_can_give_has_words() -> None:
    verdict = screen_text(
        "mail me at a@b.com or 07700 900123, NI QQ 12 34 56 C, SW1A 1AA, "
        "4111 1111 1111 1111, www.example.com"
    )
    assert {c for c in verdict.reasons} <= set(WORDS)
    assert len(verdict.reasons) >= 5
