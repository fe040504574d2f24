"""``townhall screen``: try the screening rules on texts, or score them on a labelled set."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from services import screening
from services.screening import FLOOD_WINDOW, REPEAT_WINDOW

CATEGORIES = ("abuse", "personal", "spam")
#: The time of texts given without one: all at once, as a burst.
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


class SpamTracker:
    """The spam rules over a sequence of texts, as if each participant wrote theirs in order.

    The same rules as for stored answers: a repeat of the person's own text within 30 days, and
    a flood once they already wrote ``flood_limit`` answers in the last ten minutes.
    """

    def __init__(self, flood_limit: int = 5) -> None:
        self.seen: dict[str, list[tuple[str, datetime]]] = {}
        self.flood_limit = flood_limit

    def reasons(self, participant: str, text: str, at: datetime | None = None) -> list[str]:
        now = at or EPOCH
        history = self.seen.setdefault(participant, [])
        recent = [(key, when) for key, when in history if when >= now - REPEAT_WINDOW]
        found = []
        key = screening.normalise(text)
        if key and any(seen == key for seen, _ in recent):
            found.append("spam:repeat")
        if sum(1 for _, when in recent if when >= now - FLOOD_WINDOW) >= self.flood_limit:
            found.append("spam:flood")
        history.append((key, now))
        return found


def verdict(
    tracker: SpamTracker, participant: str, text: str, at: datetime | None = None
) -> dict[str, Any]:
    result = screening.screen_text(text)
    reasons = [*result.reasons, *tracker.reasons(participant, text, at)]
    return {
        "text": text,
        "verdict": "flag" if reasons else "ok",
        "reasons": reasons,
        "abuse_score": round(result.abuse_score, 3),
    }


class BadLine(ValueError):
    """A JSON input line that cannot be screened; the message names the line, not its text."""


def parse_line(number: int, raw: str) -> tuple[str, str, datetime | None] | None:
    """(participant, text, at) for one input line; None for a blank line.

    A plain line is an answer of its own, from a person of its own. A JSON object
    ``{"text": ..., "participant": ..., "at": ...}`` replays a real sequence: lines with the
    same participant are one person's answers, ``at`` (ISO 8601) when each was written.
    """
    line = raw.strip()
    if not line:
        return None
    if not line.startswith("{"):
        return f"line {number}", line, None
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise BadLine(f"line {number}: not valid JSON ({exc.msg})") from None
    text, participant, at = data.get("text"), data.get("participant"), data.get("at")
    if not isinstance(text, str) or not text.strip():
        raise BadLine(f'line {number}: "text" must be a non-empty string')
    if participant is None:
        participant = f"line {number}"
    elif not isinstance(participant, str | int):
        raise BadLine(f'line {number}: "participant" must be a string')
    when = None
    if at is not None:
        try:
            when = datetime.fromisoformat(str(at))
        except ValueError:
            raise BadLine(f'line {number}: "at" must be an ISO 8601 time') from None
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return str(participant), text, when


def screen_lines(
    lines: Iterable[str], flood_limit: int = 5, on_error: Callable[[str], None] | None = None
) -> Iterator[dict[str, Any]]:
    """A verdict per input line; a bad JSON line is reported to ``on_error`` and skipped."""
    tracker = SpamTracker(flood_limit)
    for number, raw in enumerate(lines, 1):
        try:
            parsed = parse_line(number, raw)
        except BadLine as exc:
            if on_error is None:
                raise
            on_error(str(exc))
            continue
        if parsed is not None:
            yield verdict(tracker, *parsed)


def categories(reasons: Iterable[str]) -> set[str]:
    return {r.split(":", 1)[0] for r in reasons}


def evaluate(path: str, flood_limit: int = 5) -> dict[str, Any]:
    """Precision and recall per category on a CSV with columns participant,text,expected."""
    tracker = SpamTracker(flood_limit)
    counts = {c: {"tp": 0, "fp": 0, "fn": 0} for c in CATEGORIES}
    rows = 0
    mistakes = []
    with open(path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            rows += 1
            expected = {c for c in row["expected"].split(";") if c}
            got = categories(verdict(tracker, row["participant"], row["text"])["reasons"])
            for c in CATEGORIES:
                if c in got and c in expected:
                    counts[c]["tp"] += 1
                elif c in got:
                    counts[c]["fp"] += 1
                elif c in expected:
                    counts[c]["fn"] += 1
            if got != expected:
                mistakes.append(
                    {"text": row["text"], "expected": sorted(expected), "got": sorted(got)}
                )
    report: dict[str, Any] = {"texts": rows, "categories": {}, "mistakes": mistakes}
    for c, n in counts.items():
        precision = n["tp"] / (n["tp"] + n["fp"]) if n["tp"] + n["fp"] else 1.0
        recall = n["tp"] / (n["tp"] + n["fn"]) if n["tp"] + n["fn"] else 1.0
        report["categories"][c] = {
            **n,
            "precision": round(precision, 3),
            "recall": round(recall, 3),
        }
    return report


def format_report(report: dict[str, Any]) -> str:
    lines = [
        f"{report['texts']} labelled texts",
        f"{'category':<10} precision  recall   tp  fp  fn",
    ]
    for c, m in report["categories"].items():
        lines.append(
            f"{c:<10} {m['precision']:9.3f} {m['recall']:7.3f} {m['tp']:4} {m['fp']:3} {m['fn']:3}"
        )
    for miss in report["mistakes"]:
        lines.append(f"  expected {miss['expected']} got {miss['got']}: {miss['text'][:70]}")
    return "\n".join(lines)
