"""The ODS workbook of a consultation export: a sheet of responses per item kind, a summary.

Rows are rendered to XML text by services/exports_ods.py's ``Spreadsheet`` (fast for large
exports); this only arranges them into several sheets.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO, Any

from odf.opendocument import OpenDocumentSpreadsheet  # type: ignore[import-untyped]
from odf.table import Table, TableCell, TableRow  # type: ignore[import-untyped]

from services.exports_ods import (
    PERCENT_STYLE,
    Spreadsheet,
    _header,
    _odf_number,
    _odf_string,
    _RawXml,
    _styles,
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

    def add_rows(self, sheet: str, records: Sequence[dict[str, Any]]) -> None:
        self.sheets[sheet].add_rows(records)

    def add_summary(self, row: SummaryRow) -> None:
        self.summary.append(row)

    def save(self, out: IO[bytes]) -> None:
        doc = OpenDocumentSpreadsheet()
        _styles(doc)
        for name, sheet in self.sheets.items():
            table = Table(name=name)
            table.addElement(_header(self.columns))
            table.appendChild(_RawXml(sheet.chunks))
            doc.spreadsheet.addElement(table)
        summary = Table(name="Summary")
        summary.addElement(_header(SUMMARY_COLUMNS))
        for *texts, count, share in self.summary:
            row = TableRow()
            for text in texts:
                row.addElement(_odf_string(str(text)))
            row.addElement(_odf_number(float(count), "float", str(count)))
            if share is None:
                row.addElement(TableCell())
            else:
                cell = _odf_number(share, "percentage", f"{share * 100:.1f}%")
                cell.setAttribute("stylename", PERCENT_STYLE)
                row.addElement(cell)
            summary.addElement(row)
        doc.spreadsheet.addElement(summary)
        doc.write(out)
