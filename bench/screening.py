"""Screening quality and cost on the labelled set in tests/data/screening.csv.

    python bench/screening.py

Prints precision and recall per category (abuse, personal, spam) and the time to screen one
text, beside a baseline measured in the same run: the personal-data regexes alone.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

from services import screening
from townhall.screen_cli import evaluate, format_report

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "screening.csv"


def per_text(fn: object, texts: list[str], rounds: int = 5) -> float:
    started = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            fn(text)  # type: ignore[operator]
    return (time.perf_counter() - started) / (rounds * len(texts))


def main() -> None:
    print(format_report(evaluate(str(DATA))))
    with DATA.open(encoding="utf-8") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)]
    screening.screen_text("warm up the model")
    baseline = per_text(screening.personal_data, texts)
    full = per_text(screening.screen_text, texts)
    print(f"\nper text: personal-data rules only {baseline * 1e6:7.0f} µs (baseline)")
    print(f"          full screening           {full * 1e6:7.0f} µs")


if __name__ == "__main__":
    main()
