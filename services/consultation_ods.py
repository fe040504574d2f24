"""The ODS workbook of a consultation export: a sheet of responses per item kind, a summary.

Rows are rendered to XML text by services/exports_ods.py's ``Spreadsheet`` (fast for large
exports); this only arranges them into several sheets.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO, Any

from services.exports_ods import Spreadsheet, rows_sheet, summary_sheet, write_document

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
        self.breakdown: Spreadsheet | None = None

    def add_breakdown(self, records: Sequence[dict[str, Any]]) -> None:
        """Rows of a suppressed breakdown (services/breakdown.py), on a "Breakdown" sheet."""
        from services.breakdown import COLUMNS

        if self.breakdown is None:
            self.breakdown = Spreadsheet(COLUMNS)
        self.breakdown.add_rows(records)

    def add_rows(self, sheet: str, records: Sequence[dict[str, Any]]) -> None:
        self.sheets[sheet].add_rows(records)

    def add_summary(self, row: SummaryRow) -> None:
        self.summary.append(row)

    def save(self, out: IO[bytes]) -> None:
        sheets = [rows_sheet(name, rows) for name, rows in self.sheets.items()]
        extra = [] if self.breakdown is None else [rows_sheet("Breakdown", self.breakdown)]
        write_document(out, [*sheets, summary_sheet(SUMMARY_COLUMNS, self.summary), *extra])
