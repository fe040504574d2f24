"""The audit log as people read it: actions in words, and the rows of one action together.

The stored action codes (``item.publish``) stay what the filter matches and what exports
carry; the page shows a label beside each. Entries written by one action (same actor, same
target, within a few seconds: creating an item and publishing it to three places) are
shown as one group.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from storage.models import AuditEntry

ACTION_LABELS = {
    "item.create": "Created an item",
    "item.publish": "Published an item",
    "item.close": "Closed an item",
    "item.results": "Asked for results",
    "answer.approve": "Approved an answer",
    "answer.hide": "Hid an answer",
    "answer.redact": "Redacted an answer",
    "answer.escalate": "Escalated an answer",
    "answer.auto_hide": "Answer hidden automatically",
    "answer.tag": "Tagged an answer with a theme",
    "answer.untag": "Took a theme off an answer",
    "staff.sign_in": "Signed in to the dashboard",
    "staff.sign_out": "Signed out of the dashboard",
    "user.add": "Added a dashboard account",
    "user.remove": "Removed a dashboard account",
    "user.password": "Changed a dashboard password",
    "export": "Downloaded responses",
    "participant.consent": "Agreed to the privacy notice",
    "participant.forget": "Erased everything about themselves",
    "participants.purge": "Erased old platform identities",
    "role.grant": "Gave a chat role",
    "role.revoke": "Took away a chat role",
}
#: Entries this close together, by the same actor on the same target, are one action.
SAME_ACTION = timedelta(seconds=5)


def action_label(code: str) -> str:
    """``item.publish`` → "Published an item"; an unknown code is shown as it is."""
    return ACTION_LABELS.get(code, code)


@dataclass
class Line:
    """One stored entry, ready to show."""

    code: str
    label: str
    details: str


@dataclass
class Group:
    """The entries of one action, newest first; the table shows one row per group."""

    day: str
    time: str
    actor: str
    target: str
    lines: list[Line] = field(default_factory=list)

    @property
    def steps(self) -> list[tuple[str, str, int]]:
        """(label, code, how many times), in the order they happened."""
        counts: dict[str, int] = {}
        for line in reversed(self.lines):
            counts[line.code] = counts.get(line.code, 0) + 1
        return [(action_label(code), code, n) for code, n in counts.items()]

    @property
    def details(self) -> list[str]:
        return [line.details for line in reversed(self.lines) if line.details]


def group_entries(
    entries: Sequence[AuditEntry],
    subject: Callable[[str], str],
    describe: Callable[[AuditEntry], str],
) -> list[Group]:
    """Consecutive entries (newest first) of one actor on one target within SAME_ACTION."""
    groups: list[Group] = []
    last: AuditEntry | None = None
    for entry in entries:
        line = Line(entry.action, action_label(entry.action), describe(entry))
        if (
            last is not None
            and groups
            and entry.actor == last.actor
            and entry.target == last.target
            and abs(_naive(last.at) - _naive(entry.at)) <= SAME_ACTION
        ):
            groups[-1].lines.append(line)
        else:
            groups.append(
                Group(
                    day=f"{entry.at.day} {entry.at:%b %Y}",
                    time=f"{entry.at:%H:%M:%S}",
                    actor=subject(entry.actor),
                    target=subject(entry.target),
                    lines=[line],
                )
            )
        last = entry
    return groups


def _naive(at: datetime) -> datetime:
    return at.replace(tzinfo=None)
