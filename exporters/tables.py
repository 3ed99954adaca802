"""Tables that leave the system as CSV or XLSX: one base class owns the formats, subclasses yield the rows.

CSV is UTF-8 with a byte-order mark, so that Excel opens Chinese text as Chinese, and no cell may start a formula
(an export holds what strangers typed into a registration form). XLSX keeps the types of the columns (dates are
dates, numbers are numbers), freezes the header row and puts filters on it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import xlsxwriter

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
KINDS = ("text", "datetime", "number", "percent", "bool")  # percent: a share 0–1, shown as 75.0 %

# What a spreadsheet evaluates when a text cell starts with it (OWASP's CSV-injection list, and NUL from ASVS 1.2.10).
# Every such text is guarded, however harmless it looks: "+1-1" shows as 0 and "+8613812345678" loses its plus, so
# no pattern of "safe" texts is kept. Numbers that are numeric values (int, float) are written as numbers instead.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\0")
# characters Excel refuses in a sheet's name
SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_EXCEL_EPOCH, _DAY = datetime(1899, 12, 30), timedelta(days=1)


@dataclass(frozen=True)
class Download:
    """A file ready to send: its name, type, bytes and how many rows of data it holds."""

    filename: str
    content_type: str
    data: bytes
    rows: int


@dataclass(frozen=True)
class Column:
    title: str
    kind: str = "text"
    width: int = 16


def starts_formula(text: str) -> bool:
    """Whether a spreadsheet would evaluate this text as a cell's content."""
    return text.startswith(FORMULA_START)


def guard(text: str) -> str:
    """A text that no spreadsheet will run: a leading quote before what would start a formula (the CSV way; in
    XLSX the same texts get the quote-prefix style, which shows the text as it is)."""
    return "'" + text if text.startswith(FORMULA_START) else text


def cell(value) -> str:
    """A value as a guarded CSV cell: numbers as numbers, anything else as guarded text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return guard(_text(value))


def _text(value) -> str:
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, list | tuple):
        return ", ".join(_text(item) for item in value)
    return str(value)


class Table:
    """A list of rows with typed columns; `rows()` yields one sequence a row, in the columns' order."""

    sheet_title = "Sheet1"

    def columns(self) -> Sequence[Column]:
        raise NotImplementedError

    def rows(self) -> Iterable[Sequence]:
        raise NotImplementedError

    def csv(self) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow([guard(column.title) for column in self.columns()])
        for row in self.rows():
            writer.writerow([cell(value) for value in row])
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")

    def xlsx(self) -> bytes:
        return workbook([self])

    def write_sheet(self, book: xlsxwriter.Workbook) -> None:
        """The table as one sheet of a workbook: typed columns, the header frozen and filtered."""
        columns = self.columns()
        sheet = book.add_worksheet(SHEET_TITLE_FORBIDDEN.sub("-", self.sheet_title)[:31])
        header, quoted_header = book.add_format({"bold": True}), book.add_format({"bold": True, "quote_prefix": True})
        when = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        quoted = book.add_format({"quote_prefix": True})
        share = book.add_format({"num_format": "0.0%"})
        for number, column in enumerate(columns):
            sheet.set_column(number, number, column.width)
            sheet.write_string(0, number, column.title, quoted_header if starts_formula(column.title) else header)
        writers = [_writer(sheet, column.kind, when, quoted, share) for column in columns]
        count = 0
        for count, row in enumerate(self.rows(), start=1):
            for number, (write, value) in enumerate(zip(writers, row, strict=True)):
                if value is not None and value != "":
                    write(count, number, value)
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, count, max(len(columns) - 1, 0))

    def render(self, fmt: str) -> bytes:
        if fmt not in CONTENT_TYPES:
            raise ValueError(f"unknown format {fmt!r}")
        return self.csv() if fmt == "csv" else self.xlsx()


def workbook(tables: Sequence[Table]) -> bytes:
    """Tables as the sheets of one XLSX workbook, in order (each sheet title unique within the book)."""
    buffer = io.BytesIO()
    # constant_memory streams row by row, as the CSV does; strings_to_formulas off: a text is never run
    book = xlsxwriter.Workbook(buffer, {"constant_memory": True, "strings_to_formulas": False,
                                        "strings_to_urls": False, "strings_to_numbers": False})
    for table in tables:
        table.write_sheet(book)
    book.close()
    return buffer.getvalue()


def _writer(sheet, kind: str, when, quoted, share=None):
    """The write call for a column's cells: typed values where the column has a type, text otherwise (a text that
    would start a formula with the quote-prefix style: it stays text even when the cell is edited or re-saved)."""
    def text(row: int, col: int, value) -> None:
        value = _text(value)
        if value.startswith(FORMULA_START):
            sheet.write_string(row, col, value, quoted)
        else:
            sheet.write_string(row, col, value)

    def typed(row: int, col: int, value) -> None:
        if kind == "datetime" and isinstance(value, datetime):
            # Excel has no time zones: the exporter gives local times. The serial number written directly is what
            # write_datetime would write (days since 1899-12-30), at a third of its cost.
            sheet.write_number(row, col, (value.replace(tzinfo=None) - _EXCEL_EPOCH) / _DAY, when)
        elif kind in ("number", "percent") and isinstance(value, int | float) and not isinstance(value, bool):
            sheet.write_number(row, col, value, share if kind == "percent" else None)
        elif kind == "bool" and isinstance(value, bool):
            sheet.write_boolean(row, col, value)
        else:
            text(row, col, value)

    return text if kind == "text" else typed


class ListTable(Table):
    """A table of rows already in memory, under given columns (a report's small tables)."""

    def __init__(self, title: str, columns: Sequence[Column], rows: Iterable[Sequence]):
        self.sheet_title, self._columns, self._rows = title, list(columns), list(rows)

    def columns(self) -> Sequence[Column]:
        return self._columns

    def rows(self) -> Iterable[Sequence]:
        return self._rows
