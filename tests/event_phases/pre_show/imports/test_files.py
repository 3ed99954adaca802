"""Reading uploaded files: workbooks that claim or unpack to far more than they weigh are refused before parsing."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from event_phases.pre_show.imports import files
from event_phases.pre_show.imports.files import read_table
from exhibit_crm.errors import InvalidInput


def _workbook(rows: list[list]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _with_sheet(data: bytes, sheet_xml: str) -> bytes:
    """The workbook with its first sheet's XML replaced."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = sheet_xml.encode() if info.filename == "xl/worksheets/sheet1.xml" else source.read(info)
            target.writestr(info.filename, body)
    return out.getvalue()


SHEET = ('<?xml version="1.0" encoding="UTF-8"?><worksheet '
         'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{dimension}<sheetData>{rows}</sheetData>'
         '</worksheet>')
HEADER_ROW = '<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c></row>'


def _refusal(data: bytes) -> str:
    with pytest.raises(InvalidInput) as refused:
        read_table(data)
    return refused.value.code


def test_a_sheet_claiming_a_huge_size_is_refused():
    bomb = _with_sheet(_workbook([["name"]]), SHEET.format(dimension='<dimension ref="A1:XFD1048576"/>',
                                                           rows=HEADER_ROW))
    assert len(bomb) < 10_000
    assert _refusal(bomb) == "too_many_rows"


def test_a_sheet_claiming_too_many_columns_is_refused():
    bomb = _with_sheet(_workbook([["name"]]), SHEET.format(dimension='<dimension ref="A1:XFD2"/>', rows=HEADER_ROW))
    assert _refusal(bomb) == "too_many_columns"


def test_sparse_cells_far_out_without_a_size_are_refused_without_filling_the_gaps():
    far = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    bomb = _with_sheet(_workbook([["name"]]), SHEET.format(dimension="", rows=HEADER_ROW + far))
    assert _refusal(bomb) == "too_many_rows"


def test_a_header_far_wider_than_the_cap_is_refused():
    cells = "".join(f'<c r="{get_column_letter(n)}1" t="inlineStr"><is><t>c{n}</t></is></c>'
                    for n in range(1, files.MAX_COLUMNS + 5))
    bomb = _with_sheet(_workbook([["name"]]), SHEET.format(dimension="", rows=f'<row r="1">{cells}</row>'))
    assert _refusal(bomb) == "too_many_columns"


def test_a_workbook_unpacking_to_too_much_is_refused_before_parsing(monkeypatch):
    monkeypatch.setattr(files, "MAX_UNPACKED", 2**20)
    padding = "<!--" + " " * (2 * 2**20) + "-->"
    bomb = _with_sheet(_workbook([["name"]]), SHEET.format(dimension=padding, rows=HEADER_ROW))
    assert len(bomb) < 100_000
    assert _refusal(bomb) == "unpacks_too_large"


def test_a_part_packed_suspiciously_well_is_refused():
    padding = "<!--" + " " * (3 * files.RATIO_FROM) + "-->"
    bomb = _with_sheet(_workbook([["name"]]), SHEET.format(dimension=padding, rows=HEADER_ROW))
    assert _refusal(bomb) == "unpacks_too_large"


def test_rows_past_the_cap_are_refused(monkeypatch):
    monkeypatch.setattr(files, "MAX_ROWS", 3)
    assert _refusal(_workbook([["name"], *[[f"p{n}"] for n in range(4)]])) == "too_many_rows"
    assert _refusal(("name\n" + "".join(f"p{n}\n" for n in range(4))).encode()) == "too_many_rows"
    assert len(read_table(_workbook([["name"], *[[f"p{n}"] for n in range(3)]])).rows) == 3


def test_a_csv_wider_than_the_cap_is_refused():
    assert _refusal((",".join(f"c{n}" for n in range(files.MAX_COLUMNS + 1)) + "\n").encode()) == "too_many_columns"


def test_a_workbook_without_a_size_keeps_its_header_and_rows():
    rows = '<row r="2"><c r="A2" t="inlineStr"><is><t>Li Wei</t></is></c></row>'
    table = read_table(_with_sheet(_workbook([["name"]]), SHEET.format(dimension="", rows=HEADER_ROW + rows)))
    assert (table.header, table.rows) == (["name"], [(2, ["Li Wei"])])


def test_control_characters_are_dropped_from_headers():
    assert read_table(b"na\x00me,email\nLi,li@example.com\n").header == ["name", "email"]
