"""The edition report's files and command: `exhibit-crm report` as JSON and XLSX, the workbook's sheets and typed
cells, the PDF's pages with Chinese text and charts, and the churn and attendee lists as CSV."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from datetime import date

import openpyxl
import pytest
from PIL import Image

from event_phases.post_show.statistics.downloads import statistics_file
from event_phases.post_show.statistics.report import edition_report
from exhibit_crm.cli import main
from exhibit_crm.errors import InvalidInput
from exporters.report import render_report

from . import show

AFTER = show.at(date(2026, 3, 20), "12:00")


@pytest.fixture
def built(session):
    return show.build(session)


def test_report_command_prints_the_json_shape(cli_env, built, capsys):
    assert main(["report", str(built["this"]), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["edition"] == {**report["edition"], "id": built["this"], "year": 2026}
    visitors = report["visitors"]
    for key in ("registered", "attended", "no_shows", "walk_ins", "visits", "trade", "public", "by_badge_type",
                "by_source", "by_day", "by_country", "by_province", "returning", "first_time"):
        assert key in visitors, key
    assert visitors["registered"] == 6 and visitors["attended"] == 4
    assert {"count", "arrived", "net_sqm", "leads"} <= set(report["exhibitors"])
    previous = report["previous_edition"]
    for key in ("id", "returning_visitors", "visitor_return_rate", "rebooked", "rebooking_rate", "rebooked_sqm"):
        assert key in previous, key
    assert [(row["company"], row["sqm"], row["leads"]) for row in previous["churned"]] == [("老客", 100.0, 2),
                                                                                           ("X", 50.0, 0)]
    assert {"exhibitor_id", "company", "sqm", "leads"} <= set(previous["churned"][0])
    assert "international" in report and "targets" in report


def test_report_command_of_an_unknown_edition_exits_1(cli_env, capsys):
    assert main(["report", "424242", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["error"] == "not_found"


def test_report_command_writes_the_xlsx_one_sheet_a_table(cli_env, built, tmp_path, capsys):
    out = tmp_path / "report.xlsx"
    assert main(["report", str(built["this"]), "--format", "xlsx", "--out", str(out), "--language", "en"]) == 0
    book = openpyxl.load_workbook(out)
    assert {"Summary", "Visitors by badge type", "Visitors by registration source", "Peak occupancy",
            "Churn list", "International (GB-T 26165)"} <= set(book.sheetnames)
    summary = {row[0]: row[1:] for row in book["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["Visitors attended"] == (4, 3, 1, 0.3333)  # typed cells: numbers stay numbers
    churn = list(book["Churn list"].iter_rows(min_row=2, values_only=True))
    assert churn[0][0] == "老客" and churn[0][4] == 100 and "laoke@show.example" in churn[0][-1]


def test_report_command_needs_a_file_for_xlsx_and_pdf(cli_env, built, capsys):
    assert main(["report", str(built["this"]), "--format", "pdf"]) == 1
    assert "--out" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils is installed by .ci/setup")
def test_the_pdf_rasterises_with_chinese_text_and_charts(session, built, tmp_path):
    report = edition_report(session, edition_id=built["this"], now=AFTER)
    pdf = render_report(report, "pdf", language="zh-CN")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "家具展 2026" in text and "流失展商名单" in text and "老客" in text
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(path), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 2
    with Image.open(pages[0]) as first:
        assert first.size[0] < first.size[1]  # A4 upright
        colours = len(first.convert("RGB").getcolors(maxcolors=1 << 24))
    assert colours > 50  # the charts' colours, not only black text on white
    images = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True).stdout
    assert len(images.strip().splitlines()) - 2 >= 4  # one image a chart


def test_churn_and_attendee_lists_as_csv(session, built):
    churn = statistics_file(session, edition_id=built["this"], kind="churn", fmt="csv", language="zh-CN", now=AFTER)
    lines = churn.data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("公司") and lines[1].startswith("老客") and churn.rows == 2
    attendees = statistics_file(session, edition_id=built["this"], kind="attendees", fmt="csv", language="en",
                                now=AFTER)
    rows = attendees.data.decode("utf-8-sig").splitlines()
    assert rows[0].endswith("2026-03-10,2026-03-11,2026-03-12") and attendees.rows == 4
    wang = next(row for row in rows if row.startswith("王伟"))
    assert wang.endswith("2026-03-10 09:10,2026-03-11 09:05,")  # first entry of each day, none on day 3


def test_unknown_files_are_refused(session, built):
    with pytest.raises(InvalidInput):
        statistics_file(session, edition_id=built["this"], kind="report", fmt="csv", language="en", now=AFTER)
    with pytest.raises(InvalidInput):
        statistics_file(session, edition_id=built["past"], kind="churn", fmt="csv", language="en", now=AFTER)


def test_xlsx_from_the_report_dict_opens(session, built):
    report = edition_report(session, edition_id=built["past"], now=AFTER)
    book = openpyxl.load_workbook(io.BytesIO(render_report(report, "xlsx", language="zh-CN")))
    assert "概览" in book.sheetnames and "流失展商名单" not in book.sheetnames  # no previous edition, no churn
