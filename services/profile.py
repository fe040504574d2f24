""" "About you": optional profile questions a consultation asks once per person.

A consultation file lists them under ``profile:`` (docs/consultations.md): a built-in by name
(``age``, ``region``, ``respondent``) or a custom single-choice question. Each person is asked a
question once (across consultations: the key is what is shared), one at a time after consent,
and may always say "Prefer not to say". Answers are stored against the participant (pseudonymous),
shown by ``mydata`` and erased by ``forget``; results broken down by them go through
services/breakdown.py, which suppresses small numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.i18n import N_, Translator, language_of

#: Keys: what a breakdown is asked for by (``results ID --by age``).
KEY_PATTERN = r"^[a-z][a-z0-9_-]{0,39}$"
PREFER_NOT = N_("Prefer not to say")
#: The row of a breakdown for people who were not asked or preferred not to say.
NOT_STATED = "Not stated"


@dataclass(frozen=True, slots=True)
class ProfileQuestion:
    key: str
    question: str
    options: tuple[str, ...]
    #: A custom question's Welsh (``{en: ..., cy: ...}`` in the file): the question, and each
    #: option's (all or none). Built-in questions are catalogue messages instead.
    question_cy: str | None = None
    options_cy: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "key": self.key,
            "question": self.question,
            "options": list(self.options),
        }
        if self.question_cy:
            out["question_cy"] = self.question_cy
        if self.options_cy:
            out["options_cy"] = list(self.options_cy)
        return out

    def question_in(self, t: Translator) -> str:
        """The question in ``t``'s language: its own Welsh, else the catalogue's (built-ins)."""
        return self.question_cy if self.question_cy and language_of(t) == "cy" else t(self.question)

    def options_in(self, t: Translator) -> tuple[str, ...]:
        """The options as ``t``'s reader sees them (stored answers stay the English)."""
        if self.options_cy and language_of(t) == "cy":
            return self.options_cy
        return tuple(t(o) for o in self.options)


#: Built-in questions: their text and options are catalogue messages (Welsh readers see them
#: in Welsh; they are stored in English). ``respondent`` is the question Citizen Space asks.
BUILT_IN: dict[str, ProfileQuestion] = {
    "age": ProfileQuestion(
        "age",
        N_("How old are you?"),
        (
            N_("Under 18"),
            N_("18 to 24"),
            N_("25 to 34"),
            N_("35 to 44"),
            N_("45 to 54"),
            N_("55 to 64"),
            N_("65 to 74"),
            N_("75 or over"),
        ),
    ),
    "region": ProfileQuestion(
        "region",
        N_("Where do you live?"),
        (
            N_("North East England"),
            N_("North West England"),
            N_("Yorkshire and the Humber"),
            N_("East Midlands"),
            N_("West Midlands"),
            N_("East of England"),
            N_("London"),
            N_("South East England"),
            N_("South West England"),
            N_("Wales"),
            N_("Scotland"),
            N_("Northern Ireland"),
            N_("Outside the UK"),
        ),
    ),
    "respondent": ProfileQuestion(
        "respondent",
        N_("Are you answering as an individual or on behalf of an organisation?"),
        (N_("As an individual"), N_("On behalf of an organisation")),
    ),
}


def from_json(rows: Sequence[dict[str, Any]] | None) -> list[ProfileQuestion]:
    """The questions stored on a consultation (``Consultation.profile``)."""
    return [
        ProfileQuestion(
            str(r["key"]),
            str(r["question"]),
            tuple(str(o) for o in r["options"]),
            question_cy=str(r["question_cy"]) if r.get("question_cy") else None,
            options_cy=tuple(str(o) for o in r.get("options_cy") or ()),
        )
        for r in rows or ()
    ]


def pending(questions: Sequence[ProfileQuestion], asked: set[str]) -> ProfileQuestion | None:
    """The first question this person has neither answered nor declined."""
    return next((q for q in questions if q.key not in asked), None)
