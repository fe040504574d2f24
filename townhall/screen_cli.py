"""``townhall screen``: try the screening rules on texts, or score them on a labelled set."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Any

from services import screening

CATEGORIES = ("abuse", "personal", "spam")


class SpamTracker:
    """The spam rules over a sequence of texts, as if each participant wrote theirs in order."""

    def __init__(self, flood_limit: int = 5) -> None:
        self.seen: dict[str, list[str]] = {}
        self.flood_limit = flood_limit

    def reasons(self, participant: str, text: str) -> list[str]:
        history = self.seen.setdefault(participant, [])
        found = []
        key = screening.normalise(text)
        if key and key in history:
            found.append("spam:repeat")
        if len(history) >= self.flood_limit:
            found.append("spam:flood")
        history.append(key)
        return found


def verdict(tracker: SpamTracker, participant: str, text: str) -> dict[str, Any]:
    result = screening.screen_text(text)
    reasons = [*result.reasons, *tracker.reasons(participant, text)]
    return {
        "text": text,
        "verdict": "flag" if reasons else "ok",
        "reasons": reasons,
        "abuse_score": round(result.abuse_score, 3),
    }


def screen_lines(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    tracker = SpamTracker()
    for raw in lines:
        text = raw.rstrip("\n")
        if text.strip():
            yield verdict(tracker, "stdin", text)


def categories(reasons: Iterable[str]) -> set[str]:
    return {r.split(":", 1)[0] for r in reasons}


def evaluate(path: str) -> dict[str, Any]:
    """Precision and recall per category on a CSV with columns participant,text,expected."""
    tracker = SpamTracker()
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
