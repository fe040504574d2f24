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

from bot.i18n import N_

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

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "question": self.question, "options": list(self.options)}


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
        ProfileQuestion(str(r["key"]), str(r["question"]), tuple(str(o) for o in r["options"]))
        for r in rows or ()
    ]


def pending(questions: Sequence[ProfileQuestion], asked: set[str]) -> ProfileQuestion | None:
    """The first question this person has neither answered nor declined."""
    return next((q for q in questions if q.key not in asked), None)
