"""The base of every table that leaves the system: one formula guard for CSV and XLSX, typed XLSX columns."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import openpyxl
import pytest

from exporters.tables import Column, Table, cell, guard, starts_formula

DANGEROUS = ["=1+1", "+1-1", "-1+A1", "@SUM(A1)", "\tx", "\rx", "\0x", "=HYPERLINK(\"http://evil\")", "+86 138",
             "-5", "+8613800138000", "=cmd|' /C calc'!A0"]
HARMLESS = ["plain", "", "王伟", " =1", "1+1", "a=b", "'quoted", "＝1"]


@pytest.mark.parametrize("text", DANGEROUS)
def test_every_text_a_spreadsheet_would_evaluate_gets_a_leading_quote(text):
    assert starts_formula(text) and guard(text) == "'" + text


@pytest.mark.parametrize("text", HARMLESS)
def test_other_texts_stay_as_they_are(text):
    assert not starts_formula(text) and guard(text) == text


def test_numbers_that_are_numbers_stay_numbers_and_everything_else_is_guarded_text():
    assert [cell(value) for value in (-5, -1.5, 3, True, None, "-5", ["=a", "b"], datetime(2026, 3, 10, 9, 5))] == [
        "-5", "-1.5", "3", "yes", "", "'-5", "'=a, b", "2026-03-10 09:05"]


class _Sample(Table):
    def columns(self):
        return [Column("=title"), Column("text"), Column("amount", "number"), Column("when", "datetime")]

    def rows(self):
        yield ["+1-1", "plain", -5, datetime(2026, 3, 10, 9, 0)]
        yield ["@SUM(A1)", "-2", "-7", None]


def test_csv_guards_every_cell_but_numeric_values():
    rows = list(csv.reader(io.StringIO(_Sample().csv().decode("utf-8-sig"))))
    assert rows == [["'=title", "text", "amount", "when"], ["'+1-1", "plain", "-5", "2026-03-10 09:00"],
                    ["'@SUM(A1)", "'-2", "'-7", ""]]


def test_xlsx_keeps_the_text_and_marks_it_as_text_with_the_quote_prefix():
    sheet = openpyxl.load_workbook(io.BytesIO(_Sample().xlsx())).active
    title, first, second = sheet[1][0], sheet[2], sheet[3]
    assert (title.value, title.data_type, title.quotePrefix, title.font.b) == ("=title", "s", True, True)
    assert [(c.value, c.data_type, c.quotePrefix) for c in first[:3]] == [
        ("+1-1", "s", True), ("plain", "s", False), (-5, "n", False)]
    assert [(c.value, c.data_type, c.quotePrefix) for c in second[:3]] == [
        ("@SUM(A1)", "s", True), ("-2", "s", True), ("-7", "s", True)]
