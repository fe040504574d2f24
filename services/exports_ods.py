"""OpenDocument spreadsheets for exports: odfpy for the document, rows streamed as XML text.

Building one odfpy element per cell costs about 1 GB and a minute for 50 000 rows, so the
"Responses" rows are rendered straight to XML text (typed cells, escaped) and spliced into the
odfpy document at save time; everything else (styles, header, "Summary" sheet) is odfpy.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

from odf import number, style  # type: ignore[import-untyped]
from odf.element import Text as _OdfText  # type: ignore[import-untyped]
from odf.opendocument import OpenDocumentSpreadsheet  # type: ignore[import-untyped]
from odf.table import Table, TableCell, TableRow  # type: ignore[import-untyped]
from odf.teletype import addTextToElement  # type: ignore[import-untyped]
from odf.text import P  # type: ignore[import-untyped]

MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet"
DATE_STYLE = "TownhallDateTime"
PERCENT_STYLE = "TownhallPercent"
SUMMARY_COLUMNS = ["item", "kind", "question", "option", "count", "share"]
#: XML 1.0 forbids most control characters; they cannot appear in a cell.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SPACES = re.compile(r"( +|\t)")


class _RawXml(_OdfText):  # type: ignore[misc]
    """Pre-rendered, already escaped XML written verbatim into content.xml."""

    def __init__(self, chunks: list[str]) -> None:
        super().__init__("")
        self.chunks = chunks

    def toXml(self, level: int, f: Any) -> None:  # odfpy's method name
        for chunk in self.chunks:
            f.write(chunk)


def paragraph_xml(value: str) -> str:
    """``<text:p>`` elements for ``value``: one per line, keeping runs of spaces and tabs.

    Lines are separate paragraphs, as LibreOffice writes them: Calc drops a
    ``<text:line-break/>`` inside a cell when it opens the file.
    """
    value = _INVALID_XML.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    return "".join(_one_paragraph(line) for line in value.split("\n"))


def _one_paragraph(line: str) -> str:
    pieces = _SPACES.split(line)  # text, separator, text, ... (always odd length)
    parts: list[str] = []
    for i, piece in enumerate(pieces):
        if i % 2 == 0:
            parts.append(escape(piece))
        elif piece == "\t":
            parts.append("<text:tab/>")
        elif piece == " " and pieces[i - 1] and pieces[i + 1]:
            parts.append(" ")  # one space between words survives ODF whitespace collapsing
        else:
            parts.append(f'<text:s text:c="{len(piece)}"/>')
    return "<text:p>" + "".join(parts) + "</text:p>"


def string_cell(value: str) -> str:
    if value == "":
        return "<table:table-cell/>"
    return (
        '<table:table-cell office:value-type="string">'
        + paragraph_xml(value)
        + "</table:table-cell>"
    )


def date_cell(value: datetime) -> str:
    """A date cell (UTC, no offset: ODF dates carry none) showing the ISO text."""
    naive = value.astimezone(UTC).replace(tzinfo=None).isoformat()
    return (
        f'<table:table-cell table:style-name="{DATE_STYLE}" office:value-type="date" '
        f"office:date-value={quoteattr(naive)}>{paragraph_xml(value.isoformat())}"
        "</table:table-cell>"
    )


class Spreadsheet:
    """A "Responses" sheet (rows added in batches) and a "Summary" sheet."""

    def __init__(self, columns: Sequence[str], date_columns: Sequence[str] = ()) -> None:
        self.columns = list(columns)
        self.date_columns = set(date_columns)
        self.chunks: list[str] = []
        self.summary: list[tuple[str, str, str, str, int, float | None]] = []
        #: Rows of suppressed breakdowns (services/breakdown.py), for a "Breakdown" sheet.
        self.breakdown: list[dict[str, Any]] = []

    def add_rows(self, records: Sequence[dict[str, Any]]) -> None:
        out = io.StringIO()
        for record in records:
            out.write("<table:table-row>")
            for column in self.columns:
                value = record.get(column, "")
                if isinstance(value, datetime):
                    out.write(date_cell(value))
                elif isinstance(value, list):
                    out.write(string_cell("; ".join(str(v) for v in value)))
                else:
                    out.write(string_cell("" if value is None else str(value)))
            out.write("</table:table-row>")
        self.chunks.append(out.getvalue())

    def add_summary(self, row: tuple[str, str, str, str, int, float | None]) -> None:
        """item, kind, question, option, count, share (0..1, or None when it means nothing)."""
        self.summary.append(row)

    def save(self, out: IO[bytes]) -> None:
        extra = breakdown_sheets(self.breakdown)
        write_document(
            out,
            [rows_sheet("Responses", self), summary_sheet(SUMMARY_COLUMNS, self.summary), *extra],
        )


def rows_sheet(name: str, rows: Spreadsheet) -> Any:
    """A sheet named ``name``: the header, then the rows ``rows`` rendered as XML text."""
    table = Table(name=name)
    table.addElement(_header(rows.columns))
    table.appendChild(_RawXml(rows.chunks))
    return table


def breakdown_sheets(records: Sequence[dict[str, Any]]) -> list[Any]:
    """A "Breakdown" sheet of these rows (services/breakdown.py), or none without rows."""
    from services.breakdown import COLUMNS

    if not records:
        return []
    sheet = Spreadsheet(COLUMNS)
    sheet.add_rows(records)
    return [rows_sheet("Breakdown", sheet)]


def summary_sheet(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Any:
    """A "Summary" sheet: each row is its texts, then a count, then a share (0..1 or None)."""
    summary = Table(name="Summary")
    summary.addElement(_header(columns))
    for *texts, count, share in rows:
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
    return summary


def write_document(out: IO[bytes], sheets: Sequence[Any]) -> None:
    """Write an ODS document holding ``sheets`` (in that order), with the export styles."""
    doc = OpenDocumentSpreadsheet()
    _styles(doc)
    for sheet in sheets:
        doc.spreadsheet.addElement(sheet)
    doc.write(out)


def _styles(doc: Any) -> None:
    stamp = number.DateStyle(name=f"{DATE_STYLE}Format")
    for part in (
        number.Year(style="long"),
        number.Text(text="-"),
        number.Month(style="long"),
        number.Text(text="-"),
        number.Day(style="long"),
        number.Text(text=" "),
        number.Hours(style="long"),
        number.Text(text=":"),
        number.Minutes(style="long"),
        number.Text(text=":"),
        number.Seconds(style="long"),
    ):
        stamp.addElement(part)
    percent = number.PercentageStyle(name=f"{PERCENT_STYLE}Format")
    percent.addElement(number.Number(decimalplaces=1, minintegerdigits=1))
    percent.addElement(number.Text(text="%"))
    doc.styles.addElement(stamp)
    doc.styles.addElement(percent)
    for name, data in ((DATE_STYLE, stamp), (PERCENT_STYLE, percent)):
        doc.styles.addElement(
            style.Style(name=name, family="table-cell", datastylename=data.getAttribute("name"))
        )


def _header(columns: Sequence[str]) -> Any:
    row = TableRow()
    for column in columns:
        row.addElement(_odf_string(column))
    return row


def _odf_string(text: str) -> Any:
    if text == "":
        return TableCell()
    cell = TableCell(valuetype="string")
    p = P()
    addTextToElement(p, _INVALID_XML.sub("", text))
    cell.addElement(p)
    return cell


def _odf_number(value: float, kind: str, shown: str) -> Any:
    cell = TableCell(valuetype=kind, value=value)
    cell.addElement(P(text=shown))
    return cell
