"""What a handler did, typed: read by the dashboard and other callers instead of notice text."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ItemCreated:
    """A poll, scale or open question was created and published."""

    short_id: str
    kind: str


@dataclass(frozen=True, slots=True)
class Decided:
    """A moderator's decision (``approve``, ``hide``, ``redact``, ``escalate``) was taken."""

    answer_id: int
    decision: str


@dataclass(frozen=True, slots=True)
class AnswerStored:
    """A free-text answer was stored (``held`` until a moderator checks it)."""

    answer_id: int
    held: bool

    @property
    def ref(self) -> str:
        return f"A{self.answer_id}"


Result = ItemCreated | Decided | AnswerStored
