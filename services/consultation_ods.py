"""The ODS workbook of a consultation export: a sheet of responses per item kind, a summary.

Rows are rendered to XML text by services/exports_ods.py's ``Spreadsheet`` (fast for large
exports); this only arranges them into several sheets.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO, Any

from services.exports_ods import (
    Spreadsheet,
    breakdown_sheets,
    rows_sheet,
    summary_sheet,
    write_document,
)

SummaryRow = tuple[str, str, str, str, str, str, str, int, float | None]
SUMMARY_COLUMNS = [
    "position",
    "clause",
    "regulation",
    "item",
    "kind",
    "question",
    "option",
    "count",
    "share",
]


class Workbook:
    """One sheet per name given (in that order), then "Summary"."""

    def __init__(self, columns: Sequence[str], sheets: Sequence[str]) -> None:
        self.columns = list(columns)
        self.sheets = {name: Spreadsheet(columns) for name in sheets}
        self.summary: list[SummaryRow] = []
        #: Rows of suppressed breakdowns (services/breakdown.py), for a "Breakdown" sheet.
        self.breakdown: list[dict[str, Any]] = []

    def add_rows(self, sheet: str, records: Sequence[dict[str, Any]]) -> None:
        self.sheets[sheet].add_rows(records)

    def add_summary(self, row: SummaryRow) -> None:
        self.summary.append(row)

    def save(self, out: IO[bytes]) -> None:
        sheets = [rows_sheet(name, rows) for name, rows in self.sheets.items()]
        summary = summary_sheet(SUMMARY_COLUMNS, self.summary)
        write_document(out, [*sheets, summary, *breakdown_sheets(self.breakdown)])
