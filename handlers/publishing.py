"""The typed forms of the publishing commands (``poll``, ``scale``, ``ask``): what a form such
as Discord's ``/townhall poll`` asks for.

They belong beside their specs in handlers/polls.py; :func:`handlers.all_specs` attaches them
until that file's vote-path rewrite has landed, when they move into the specs themselves.
"""

from __future__ import annotations

from dataclasses import replace

from bot.grammar import CommandSpec, Field

CLOSES = Field(
    "closes", "When it closes: 2d, 6h or 2026-12-01T12:00Z (default: stays open)", "option"
)
RESULTS = Field(
    "results", "Show results live while open, or only once it has closed (default: live)", "option"
)
QUESTION = Field("question", "The question people vote on", required=True, limit=300)
#: The item's Welsh (issue 18): the question, then (a poll) each option, split by |.
WELSH = Field(
    "cy", "Cymraeg: the question in Welsh (a poll: then | each option)", "option", limit=1000
)

FIELDS: dict[str, tuple[Field, ...]] = {
    "poll": (
        QUESTION,
        Field(
            "options",
            "2 to 10 options separated by |, e.g. Yes | No | Not sure",
            "args",
            required=True,
            limit=1000,
        ),
        Field("multi", "Let people choose several options", "flag"),
        CLOSES,
        RESULTS,
        WELSH,
    ),
    "scale": (
        Field("statement", "The statement people rate", required=True, limit=300),
        CLOSES,
        RESULTS,
        WELSH,
    ),
    "ask": (
        Field(
            "question", "The question people answer in their own words", required=True, limit=300
        ),
        CLOSES,
        Field(
            "moderation",
            "strict (default): hold flagged answers for a moderator; "
            "lazy: show them and queue them",
            "option",
        ),
        Field(
            "author-notices",
            "Tell authors privately when a moderator hides their answer (default: yes)",
            "option",
            kind="yes/no",
        ),
        WELSH,
    ),
}

SLASH_HELP = {
    "poll": "Publish a poll in this channel (policy team)",
    "scale": "Publish an agree/disagree scale (policy team)",
    "ask": "Publish an open question (policy team)",
}


def with_form(spec: CommandSpec) -> CommandSpec:
    """The spec with its typed form, when it is a publishing command that lacks one."""
    if spec.fields or spec.name not in FIELDS:
        return spec
    return replace(spec, fields=FIELDS[spec.name], publishes=True, slash_help=SLASH_HELP[spec.name])
