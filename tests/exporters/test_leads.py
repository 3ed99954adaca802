"""Lead lists: what pandas and openpyxl read back, the consent rule in each format, filters, and the audit log."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import openpyxl
import pandas as pd
import pytest
from sqlmodel import select

from exhibit_crm import audit
from exhibit_crm.errors import InvalidInput
from exhibit_crm.models import AuditLog, Contact, Exhibitor, ExhibitorUser, Lead, LeadQuestion
from exporters.leads import LeadFilter, download_leads, lead_records, split_name
from tests import factories

T0 = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, the first show day


@pytest.fixture
def booth(session):
    """An exhibitor with two questions and four leads: two visitors share their details, two do not."""
    ed = factories.edition(session)
    user = factories.exhibitor_user(session, ed)
    other = factories.exhibitor_user(session, ed, email="sales@other.example.cn", company="深圳另一家具",
                                    booth_number="N1-A02")
    exhibitor_id = user.exhibitor_id
    budget = LeadQuestion(exhibitor_id=exhibitor_id, label="预算已确认", kind="checkbox", position=0)
    volume = LeadQuestion(exhibitor_id=exhibitor_id, label="Order volume", kind="select", position=1,
                          options=["< 1 container", "> 5 containers"])
    session.add_all([budget, volume])
    session.flush()
    people = [("王伟", "wang.wei@example.cn", True, "hot", "要报价，每月两个货柜"),
              ("欧阳娜", "ouyang@example.cn", False, "warm", ""),
              ("Anna Schmidt", "anna@example.de", True, "cold", "=HYPERLINK(\"http://evil\")"),
              ("李娜", "li.na@example.cn", False, None, "私下备注")]
    for number, (name, email, share, rating, notes) in enumerate(people):
        reg = factories.registration(session, ed, full_name=name, email=email, phone=f"+86139000000{number:02d}",
                                     company="上海宜家家居")
        contact = session.get(Contact, reg.contact_id)
        contact.consent_share = share
        contact.title = "采购经理"
        session.add(contact)
        at = T0 + timedelta(hours=number)
        session.add(Lead(exhibitor_id=exhibitor_id, registration_id=reg.id, scanned_by_id=user.id, rating=rating,
                         notes=notes, answers={str(budget.id): number % 2 == 0, str(volume.id): "> 5 containers"},
                         created_at=at, updated_at=at))
    stranger = factories.registration(session, ed, full_name="外人", email="x@example.cn")
    session.add(Lead(exhibitor_id=other.exhibitor_id, registration_id=stranger.id, created_at=T0, updated_at=T0))
    session.commit()
    return {"exhibitor_id": exhibitor_id, "actor": audit.Actor("exhibitor_user", user.id, user.email),
            "user_id": user.id}


def _download(session, booth, fmt, **kwargs):
    return download_leads(session, exhibitor_id=booth["exhibitor_id"], fmt=fmt, actor=booth["actor"], **kwargs)


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


def test_filters_by_rating_date_and_staff_member(session, booth):
    def names(**filters):
        return [record.visitor.name for record in lead_records(session, exhibitor_id=booth["exhibitor_id"],
                                                                filters=LeadFilter(**filters))]
    assert names(rating="hot") == ["王伟"]
    assert names(since=T0 + timedelta(hours=1), until=T0 + timedelta(hours=3)) == ["欧阳娜", "Anna Schmidt"]
    assert names(scanned_by_id=booth["user_id"]) == ["王伟", "欧阳娜", "Anna Schmidt", "李娜"]
    assert names(scanned_by_id=booth["user_id"] + 999) == []
    with pytest.raises(InvalidInput) as refused:
        names(rating="lukewarm")
    assert refused.value.field == "rating"


def test_only_new_since_my_last_download(session, booth):
    first = _download(session, booth, "csv", filters=LeadFilter(new_only=True))
    assert first.rows == 4
    session.commit()
    assert _download(session, booth, "csv", filters=LeadFilter(new_only=True)).rows == 0
    lead = session.scalars(select(Lead).where(Lead.exhibitor_id == booth["exhibitor_id"])
                           .order_by(Lead.id)).first()
    lead.updated_at = datetime.now(UTC) + timedelta(seconds=1)
    session.add(lead)
    session.commit()
    again = _download(session, booth, "csv", filters=LeadFilter(new_only=True))
    assert again.rows == 1


def test_every_download_is_in_the_audit_log(session, booth):
    for fmt in ("csv", "xlsx", "crm-csv"):
        _download(session, booth, fmt, filters=LeadFilter(rating="hot"))
    session.commit()
    entries = session.scalars(select(AuditLog).where(AuditLog.action == "exporters.leads.downloaded")
                              .order_by(AuditLog.id)).all()
    assert [(e.data["format"], e.data["rows"], e.data["filters"]) for e in entries] == [
        ("csv", 1, {"rating": "hot"}), ("xlsx", 1, {"rating": "hot"}), ("crm-csv", 1, {"rating": "hot"})]
    assert {(e.actor_type, e.actor_id, e.object_type, e.object_id) for e in entries} == {
        ("exhibitor_user", booth["user_id"], "exhibitor", booth["exhibitor_id"])}


def test_another_exhibitors_leads_never_appear(session, booth):
    names = [record.visitor.name for record in lead_records(session, exhibitor_id=booth["exhibitor_id"])]
    assert "外人" not in names
    other = session.scalars(select(Exhibitor).where(Exhibitor.id != booth["exhibitor_id"])).one()
    assert [r.visitor.name for r in lead_records(session, exhibitor_id=other.id)] == ["外人"]


def test_names_split_for_a_crm(session):
    from exhibit_crm.sharing import VisitorCard
    card = VisitorCard("司马相如", "", "", True)
    assert split_name(card) == ("相如", "司马")
    assert split_name(VisitorCard("Jean Paul Sartre", "", "", True)) == ("Jean Paul", "Sartre")
    assert split_name(VisitorCard("Madonna", "", "", True)) == ("", "Madonna")
    assert split_name(VisitorCard("王伟", "", "", True, first_name="Wei", last_name="Wang")) == ("Wei", "Wang")


def test_unknown_format_is_refused(session, booth):
    with pytest.raises(InvalidInput) as refused:
        _download(session, booth, "pdf")
    assert refused.value.field == "format"
    assert session.scalars(select(AuditLog).where(AuditLog.action == "exporters.leads.downloaded")).all() == []


def test_scanned_by_shows_the_staff_members_name(session, booth):
    records = lead_records(session, exhibitor_id=booth["exhibitor_id"])
    assert {record.scanned_by for record in records} == {session.get(ExhibitorUser, booth["user_id"]).name} == {"陈静"}
