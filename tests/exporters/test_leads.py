"""Lead lists as files: what pandas and openpyxl read back, the consent rule in each format, the CRM layout."""

from __future__ import annotations

import io
from datetime import datetime

import openpyxl
import pandas as pd
import pytest
from sqlmodel import select

from badge_scanner.leads import lead_rows
from exhibit_crm.models import Edition, Exhibitor, LeadQuestion
from exporters.leads import lead_file, split_name
from tests.badge_scanner.leads.listed import four_leads


@pytest.fixture
def booth(session):
    return four_leads(session)


def _download(session, booth, fmt, language="en"):
    exhibitor = session.get(Exhibitor, booth["exhibitor_id"])
    questions = session.scalars(select(LeadQuestion).where(LeadQuestion.exhibitor_id == exhibitor.id)
                                .order_by(LeadQuestion.position)).all()
    return lead_file(lead_rows(session, exhibitor_id=exhibitor.id), questions, fmt=fmt, language=language,
                     edition=session.get(Edition, exhibitor.edition_id), company="广州华美家居有限公司")


def test_csv_reads_back_with_pandas_exactly_the_leads_and_their_chinese_text(session, booth):
    download = _download(session, booth, "csv", language="zh-CN")
    assert download.data.startswith(b"\xef\xbb\xbf") and download.content_type.startswith("text/csv")
    frame = pd.read_csv(io.BytesIO(download.data), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(frame["姓名"]) == ["王伟", "欧阳娜", "Anna Schmidt", "李娜"] and download.rows == 4
    assert list(frame["公司"]) == ["上海宜家家居"] * 4
    assert list(frame["评级"]) == ["热", "温", "冷", ""]
    assert list(frame["备注"])[0] == "要报价，每月两个货柜"
    assert list(frame["预算已确认"]) == ["yes", "no", "yes", "no"]
    assert list(frame["扫描时间"])[0] == "2026-03-10 10:00"


def test_without_consent_only_name_company_and_badge_type_leave_in_every_format(session, booth):
    frame = pd.read_csv(io.BytesIO(_download(session, booth, "csv").data), encoding="utf-8-sig", dtype=str,
                        keep_default_na=False)
    assert list(frame["E-mail"]) == ["wang.wei@example.cn", "", "anna@example.de", ""]
    assert list(frame["Phone"]) == ["'+8613900000000", "", "'+8613900000002", ""]  # see tables.guard
    assert list(frame["Title"]) == ["采购经理", "", "采购经理", ""]
    assert list(frame["Badge type"]) == ["trade_visitor"] * 4
    crm = pd.read_csv(io.BytesIO(_download(session, booth, "crm-csv").data), encoding="utf-8-sig", dtype=str,
                      keep_default_na=False)
    assert list(crm["Email"]) == ["wang.wei@example.cn", "", "anna@example.de", ""]
    sheet = openpyxl.load_workbook(io.BytesIO(_download(session, booth, "xlsx").data)).active
    rows = list(sheet.iter_rows(values_only=True))
    email = rows[0].index("E-mail")
    assert [row[email] for row in rows[1:]] == ["wang.wei@example.cn", None, "anna@example.de", None]


def test_xlsx_has_typed_columns_a_frozen_header_and_filters(session, booth):
    download = _download(session, booth, "xlsx", language="zh-CN")
    book = openpyxl.load_workbook(io.BytesIO(download.data))
    sheet = book.active
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:P5"
    header = [cell.value for cell in sheet[1]]
    assert header[:5] == ["扫描时间", "更新时间", "评级", "扫描人", "姓名"]
    assert header[-2:] == ["预算已确认", "Order volume"]
    first = [cell.value for cell in sheet[2]]
    assert first[0] == datetime(2026, 3, 10, 10, 0) and first[4] == "王伟"
    assert first[-2] is True and first[-1] == "> 5 containers"
    names = [row[4] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert names == ["王伟", "欧阳娜", "Anna Schmidt", "李娜"]


def test_crm_csv_follows_the_lead_import_layout(session, booth):
    crm = pd.read_csv(io.BytesIO(_download(session, booth, "crm-csv").data), encoding="utf-8-sig", dtype=str,
                      keep_default_na=False)
    assert list(crm.columns) == ["First Name", "Last Name", "Company", "Email", "Phone", "Title", "Country",
                                 "Lead Source", "Rating", "Description"]
    assert list(zip(crm["First Name"], crm["Last Name"], strict=True)) == [
        ("伟", "王"), ("娜", "欧阳"), ("Anna", "Schmidt"), ("娜", "李")]
    assert list(crm["Rating"]) == ["Hot", "Warm", "Cold", ""]
    assert crm["Lead Source"][0] == "Trade Show - Furniture Fair 2026"
    assert crm["Description"][0] == "要报价，每月两个货柜\n预算已确认: yes\nOrder volume: > 5 containers"


def test_no_cell_starts_a_formula(session, booth):
    frame = pd.read_csv(io.BytesIO(_download(session, booth, "csv").data), encoding="utf-8-sig", dtype=str,
                        keep_default_na=False)
    assert frame["Notes"][2] == "'=HYPERLINK(\"http://evil\")"
    assert frame["Phone"][0] == "'+8613900000000"  # Excel would read it as a number and drop the plus
    sheet = openpyxl.load_workbook(io.BytesIO(_download(session, booth, "xlsx").data)).active
    notes = [cell.value for cell in sheet[1]].index("Notes")
    cell = sheet.cell(row=4, column=notes + 1)
    assert cell.value == "=HYPERLINK(\"http://evil\")" and cell.data_type == "s" and cell.quotePrefix


def test_names_split_for_a_crm(session):
    from exhibit_crm.sharing import VisitorCard
    card = VisitorCard("司马相如", "", "", True)
    assert split_name(card) == ("相如", "司马")
    assert split_name(VisitorCard("Jean Paul Sartre", "", "", True)) == ("Jean Paul", "Sartre")
    assert split_name(VisitorCard("Madonna", "", "", True)) == ("", "Madonna")
    assert split_name(VisitorCard("王伟", "", "", True, first_name="Wei", last_name="Wang")) == ("Wei", "Wang")


def test_the_file_is_named_after_the_edition_and_the_company(session, booth):
    stem = "leads-2026-广州华美家居有限公司"
    assert [_download(session, booth, fmt).filename for fmt in ("csv", "xlsx", "crm-csv")] == [
        f"{stem}.csv", f"{stem}.xlsx", f"{stem}-crm.csv"]
