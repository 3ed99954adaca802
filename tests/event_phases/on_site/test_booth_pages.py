"""The booth pages as exhibitor staff use them: scanning into leads, the lead list and its downloads, one lead with
its consent-aware visitor card and the contact request, the questions, the dashboard, and isolation between
exhibitors on every route."""

from __future__ import annotations

import html
import io
import json
import re
from datetime import UTC, datetime

import openpyxl
import pandas as pd
import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from badge_scanner.codes import load_signer
from badge_scanner.leads import BoothScan, scan_lead
from exhibit_crm.models import AuditLog, Contact, Lead, LeadQuestion, LeadScan, OutboxMessage
from tests import factories

SCANNED = datetime(2026, 3, 10, 2, 30, tzinfo=UTC)  # 10:30 on the first show day in Shanghai


@pytest.fixture
def stand(session, settings):
    """Two exhibitors of one edition, each with a user and a question; two visitors, one sharing their details;
    the other exhibitor already has a lead."""
    ed = factories.edition(session)
    ours = factories.exhibitor_user(session, ed)
    theirs = factories.exhibitor_user(session, ed, email="sales@oak.example.cn", company="深圳橡木家具",
                                      booth_number="N1-A02")
    budget = LeadQuestion(exhibitor_id=ours.exhibitor_id, label="预算已确认", kind="checkbox", position=1)
    product = LeadQuestion(exhibitor_id=ours.exhibitor_id, label="感兴趣的产品", kind="select",
                           options=["沙发", "餐桌"], position=2)
    other_question = LeadQuestion(exhibitor_id=theirs.exhibitor_id, label="Decision maker", kind="checkbox")
    session.add_all([budget, product, other_question])
    shared = factories.registration(session, ed, full_name="王伟", email="wang.wei@example.cn", company="上海宜家家居")
    private = factories.registration(session, ed, full_name="李娜", email="li.na@example.cn", company="杭州家居")
    contact = session.get(Contact, shared.contact_id)
    contact.consent_share = True
    contact.phone = "+8613800138000"
    session.add(contact)
    session.commit()
    signer = load_signer(settings.data_dir)
    their_lead = scan_lead(session, exhibitor_id=theirs.exhibitor_id, user_id=theirs.id, verifier=signer.verifier,
                           scan=BoothScan(code=signer.sign(private.id, 1), scan_id="t-1", rating="cold",
                                                   notes="他们的备注"), now=SCANNED)["lead"]["id"]
    session.commit()
    return {"ours": ours, "theirs": theirs, "budget": budget.id, "product": product.id,
            "other_question": other_question.id, "their_lead": their_lead,
            "shared": signer.sign(shared.id, 1), "private": signer.sign(private.id, 1), "signer": signer,
            "shared_registration": shared.id, "private_registration": private.id}


def sign_in(client, user) -> TestClient:
    assert factories.login(client, account=user.email, path="/exhibitor/login").status_code == 303
    return client


@pytest.fixture
def ours(client, stand):
    return sign_in(client, stand["ours"])


def csrf(client, path: str = "/portal/scan") -> str:
    return factories.csrf_from(client.get(path).text)


def scan(client, code: str, scan_id: str, **fields):
    return client.post("/portal/api/leads", json={"code": code, "scan_id": scan_id, **fields},
                       headers={"X-CSRF-Token": csrf(client), "Accept": "application/json"})


def lead_of(db, exhibitor_id: int, registration_id: int) -> Lead:
    return db(lambda s: s.scalars(select(Lead).where(Lead.exhibitor_id == exhibitor_id,
                                                     Lead.registration_id == registration_id)).one())


# Scanning.

def test_the_scan_page_is_for_exhibitor_users_only(client, stand):
    assert "/exhibitor/login" in client.get("/portal/scan", follow_redirects=False).headers["location"]
    page = sign_in(client, stand["ours"]).get("/portal/scan").text
    assert 'id="scan"' in page and "booth.js" in page and "预算已确认" in page and "沙发" in page
    assert "Decision maker" not in page


def test_a_scan_shows_the_visitor_as_consent_allows_and_a_second_scan_opens_the_same_lead(ours, db, stand):
    first = scan(ours, stand["shared"], "s-1").json()
    assert first["verdict"] == "accepted" and first["visitor"]["email"] == "wang.wei@example.cn"
    assert first["visitor"]["phone"] == "+8613800138000"
    private = scan(ours, stand["private"], "s-2").json()
    assert private["visitor"]["name"] == "李娜" and private["visitor"]["company"] == "杭州家居"
    assert private["visitor"]["email"] == "" and private["visitor"]["phone"] == "" and not private["visitor"]["shared"]
    again = scan(ours, stand["shared"], "s-3").json()
    assert again["lead"]["id"] == first["lead"]["id"]
    assert db(lambda s: len(s.scalars(select(Lead).where(Lead.exhibitor_id == stand["ours"].exhibitor_id)).all())) == 2


def test_the_scan_endpoints_want_the_csrf_token(ours, stand):
    answer = ours.post("/portal/api/leads", json={"code": stand["shared"], "scan_id": "x"},
                       headers={"Accept": "application/json"})
    assert answer.status_code == 403 and answer.json()["error"] == "csrf_failed"


def test_a_rejected_badge_shows_nothing_of_anyone(ours, stand):
    body = scan(ours, stand["shared"][:-4] + "AAAA", "bad").json()
    assert (body["verdict"], body["reason"], body["visitor"]) == ("rejected", "invalid_code", None)


def test_saving_rates_notes_and_answers_the_lead(ours, db, stand):
    lead_id = scan(ours, stand["shared"], "s-1").json()["lead"]["id"]
    answer = ours.post(f"/portal/api/leads/{lead_id}", headers={"X-CSRF-Token": csrf(ours)}, json={
        "rating": "hot", "notes": "要报价", "answers": {str(stand["budget"]): True, str(stand["product"]): "沙发"}})
    assert answer.status_code == 200 and answer.json()["rating"] == "hot"
    lead = lead_of(db, stand["ours"].exhibitor_id, stand["shared_registration"])
    assert (lead.rating, lead.notes, lead.answers) == ("hot", "要报价", {str(stand["budget"]): True,
                                                                       str(stand["product"]): "沙发"})
    bad = ours.post(f"/portal/api/leads/{lead_id}", headers={"X-CSRF-Token": csrf(ours)},
                    json={"answers": {str(stand["product"]): "床"}})
    assert bad.status_code == 422 and lead_of(db, stand["ours"].exhibitor_id,
                                              stand["shared_registration"]).answers[str(stand["product"])] == "沙发"


def test_an_offline_batch_uploads_once_whatever_the_repeats(ours, db, stand):
    batch = {"leads": [{"code": stand["private"], "scan_id": "o-1"},
                       {"code": stand["private"], "scan_id": "o-2", "rating": "warm", "notes": "离线",
                        "answers": {str(stand["budget"]): True}}]}
    headers = {"X-CSRF-Token": csrf(ours)}
    first = ours.post("/portal/api/leads/batch", json=batch, headers=headers).json()["results"]
    again = ours.post("/portal/api/leads/batch", json=batch, headers=headers).json()["results"]
    assert [r["lead"]["id"] for r in first] == [r["lead"]["id"] for r in again]
    lead = lead_of(db, stand["ours"].exhibitor_id, stand["private_registration"])
    assert (lead.rating, lead.notes) == ("warm", "离线")
    assert db(lambda s: len(s.scalars(select(LeadScan).where(
        LeadScan.exhibitor_id == stand["ours"].exhibitor_id)).all())) == 2


# One lead: the consent rule and the contact request.

def test_the_lead_page_shows_contact_details_only_with_consent(ours, stand):
    shared = scan(ours, stand["shared"], "s-1").json()["lead"]["id"]
    private = scan(ours, stand["private"], "s-2").json()["lead"]["id"]
    page = ours.get(f"/portal/leads/{shared}").text
    assert "wang.wei@example.cn" in page and "+8613800138000" in page and "Request contact" not in page
    page = ours.get(f"/portal/leads/{private}").text
    assert "李娜" in page and "杭州家居" in page and "trade_visitor" in page
    assert "li.na@example.cn" not in page and "Request contact" in page


def test_the_lead_form_saves_rating_notes_and_answers(ours, db, stand):
    lead_id = scan(ours, stand["private"], "s-1").json()["lead"]["id"]
    page = ours.get(f"/portal/leads/{lead_id}").text
    answer = ours.post(f"/portal/leads/{lead_id}", data={
        "csrf_token": factories.csrf_from(page), "rating": "warm", "notes": "下周回访",
        f"q{stand['product']}": "餐桌"}, follow_redirects=False)
    assert answer.status_code == 303
    lead = lead_of(db, stand["ours"].exhibitor_id, stand["private_registration"])
    assert (lead.rating, lead.notes, lead.answers) == ("warm", "下周回访", {str(stand["budget"]): False,
                                                                         str(stand["product"]): "餐桌"})


def _mails(db) -> list[OutboxMessage]:
    return db(lambda s: s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "lead_contact_request")).all())


def test_request_contact_mails_a_non_consenting_visitor_once(ours, db, stand):
    lead_id = scan(ours, stand["private"], "s-1").json()["lead"]["id"]
    path = f"/portal/leads/{lead_id}/request-contact"
    token = csrf(ours, f"/portal/leads/{lead_id}")
    assert ours.post(path, data={"csrf_token": token, "message": "想给您寄样品目录"},
                     follow_redirects=False).status_code == 303
    assert ours.post(path, data={"csrf_token": token, "message": "again"}).status_code == 409
    (mail,) = _mails(db)
    assert mail.to_addr == "li.na@example.cn"
    # the visitor's language (zh-CN unless they chose otherwise): company, booth, message and where to reply
    for part in ("广州华美家居有限公司", "N1-N1-A01", "想给您寄样品目录", "sales@huamei.example.cn"):
        assert part in mail.text_body, part
    assert "广州华美家居有限公司" in mail.subject
    assert "li.na@example.cn" not in ours.get(f"/portal/leads/{lead_id}").text
    entries = db(lambda s: s.scalars(select(AuditLog).where(
        AuditLog.action == "event_phases.on_site.lead.contact_requested")).all())
    assert [(e.object_id, e.actor_id) for e in entries] == [(lead_id, stand["ours"].id)]


def test_no_contact_request_for_a_visitor_who_shares(ours, db, stand):
    lead_id = scan(ours, stand["shared"], "s-1").json()["lead"]["id"]
    answer = ours.post(f"/portal/leads/{lead_id}/request-contact",
                       data={"csrf_token": csrf(ours, f"/portal/leads/{lead_id}"), "message": "hi"})
    assert answer.status_code == 409 and _mails(db) == []


# Questions.

def test_questions_are_added_edited_moved_and_removed(ours, db, stand):
    mine = lambda: db(lambda s: [(q.label, q.kind, q.options) for q in s.scalars(  # noqa: E731
        select(LeadQuestion).where(LeadQuestion.exhibitor_id == stand["ours"].exhibitor_id)
        .order_by(LeadQuestion.position, LeadQuestion.id))])
    token = csrf(ours, "/portal/questions")
    assert ours.post("/portal/questions", data={"csrf_token": token, "label": "需要报价", "kind": "text"},
                     follow_redirects=False).status_code == 303
    refused = ours.post("/portal/questions", data={"csrf_token": token, "label": "型号", "kind": "select",
                                                   "options": "\n  \n"})
    assert refused.status_code == 422 and "at least one option" in refused.text
    assert ours.post(f"/portal/questions/{stand['budget']}", data={
        "csrf_token": token, "label": "决策人", "kind": "checkbox"}, follow_redirects=False).status_code == 303
    ours.post(f"/portal/questions/{stand['product']}/move", data={"csrf_token": token, "direction": "up"})
    assert mine() == [("感兴趣的产品", "select", ["沙发", "餐桌"]), ("决策人", "checkbox", []),
                      ("需要报价", "text", [])]
    ours.post(f"/portal/questions/{stand['product']}/delete", data={"csrf_token": token})
    assert [label for label, _kind, _options in mine()] == ["决策人", "需要报价"]


# The list and its downloads.

def _two_leads(ours, stand):
    scan(ours, stand["shared"], "s-1", rating="hot", notes="要报价",
         answers={str(stand["budget"]): True, str(stand["product"]): "沙发"})
    scan(ours, stand["private"], "s-2", rating="cold")


def _download(client, fmt: str, **filters):
    token = csrf(client, "/portal/leads")
    return client.post("/portal/leads/download", data={"csrf_token": token, "format": fmt, **filters})


def test_the_list_shows_our_leads_and_filters_them(ours, stand):
    _two_leads(ours, stand)
    page = ours.get("/portal/leads").text
    listing = page.split('id="lead-list"')[1]
    assert "王伟" in listing and "李娜" in listing and "wang.wei@example.cn" in listing
    assert "li.na@example.cn" not in page and "他们的备注" not in page
    hot = ours.get("/portal/leads?rating=hot").text.split('id="lead-list"')[1]
    assert "王伟" in hot and "李娜" not in hot
    assert "No leads yet" in ours.get("/portal/leads?since=2026-01-01&until=2026-01-02").text
    assert ours.get("/portal/leads?since=someday").status_code == 422
    for far in ("since=0001-01-01", "until=9999-12-31"):
        assert ours.get(f"/portal/leads?{far}").status_code == 422
        assert _download(ours, "csv", **dict([far.split("=")])).status_code == 422
    mine = ours.get(f"/portal/leads?scanned_by={stand['ours'].id}").text
    assert "王伟" in mine.split('id="lead-list"')[1]


def test_downloads_hold_exactly_the_leads_with_answers_as_columns(ours, stand):
    _two_leads(ours, stand)
    xlsx = _download(ours, "xlsx")
    assert xlsx.status_code == 200 and "attachment" in xlsx.headers["content-disposition"]
    rows = list(openpyxl.load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    header = rows[0]
    assert header[-2:] == ("预算已确认", "感兴趣的产品")
    by_name = {row[header.index("Visitor name")]: row for row in rows[1:]}
    assert set(by_name) == {"王伟", "李娜"}
    assert by_name["王伟"][-2:] == (True, "沙发") and by_name["王伟"][header.index("Rating")] == "hot"
    assert by_name["王伟"][header.index("E-mail")] == "wang.wei@example.cn"
    assert by_name["李娜"][header.index("E-mail")] in ("", None)
    frame = pd.read_csv(io.BytesIO(_download(ours, "csv").content), encoding="utf-8-sig", dtype=str,
                        keep_default_na=False)
    assert sorted(frame["Visitor name"]) == ["李娜", "王伟"]
    assert list(frame.columns[-2:]) == ["预算已确认", "感兴趣的产品"]
    wang = frame[frame["Visitor name"] == "王伟"].iloc[0]
    assert (wang["感兴趣的产品"], wang["Company"], wang["Notes"]) == ("沙发", "上海宜家家居", "要报价")
    crm = pd.read_csv(io.BytesIO(_download(ours, "crm-csv").content), encoding="utf-8-sig", dtype=str,
                      keep_default_na=False)
    assert sorted(crm["Last Name"]) == ["李", "王"]


def test_every_download_is_in_the_audit_log(ours, db, stand):
    _two_leads(ours, stand)
    for fmt, filters in (("csv", {}), ("xlsx", {"rating": "hot"}), ("crm-csv", {"new_only": "1"})):
        assert _download(ours, fmt, **filters).status_code == 200
    entries = db(lambda s: s.scalars(select(AuditLog).where(AuditLog.action == "exporters.leads.downloaded")
                                     .order_by(AuditLog.id)).all())
    assert [(e.actor_type, e.actor_id, e.object_id, e.data["format"], e.data["rows"]) for e in entries] == [
        ("exhibitor_user", stand["ours"].id, stand["ours"].exhibitor_id, "csv", 2),
        ("exhibitor_user", stand["ours"].id, stand["ours"].exhibitor_id, "xlsx", 1),
        ("exhibitor_user", stand["ours"].id, stand["ours"].exhibitor_id, "crm-csv", 0)]
    assert all(e.at is not None for e in entries)
    assert "Your last download" in ours.get("/portal/leads").text


# The dashboard.

def test_the_dashboard_counts_leads_by_rating_and_the_teams_scans(ours, stand):
    _two_leads(ours, stand)
    scan(ours, stand["shared"], "s-3")
    page = ours.get("/portal/dashboard").text
    assert 'data-figure="total">2<' in page and 'data-figure="hot">1<' in page and 'data-figure="cold">1<' in page
    staff = page.split('id="by-staff"')[1]
    assert "陈静" in staff and "<td class=\"n\">3</td>" in staff and "<td class=\"n\">2</td>" in staff
    assert "/portal/visitors" in page
    spec = json.loads(html.unescape(re.search(r'id="by-day"[^>]*data-spec=\'([^\']*)\'', page).group(1)))
    bars = spec["data"]["values"]  # the chart's rows: one per day and rating with leads
    assert sorted((row["rating"], row["leads"]) for row in bars) == [("cold", 1), ("hot", 1)]


def test_the_booth_pages_speak_chinese(ours, stand):
    ours.cookies.set("lang", "zh-CN")
    assert "评级" in ours.get("/portal/scan").text
    page = ours.get("/portal/leads").text
    assert "只显示上次下载后的新线索" in page and "线索" in page
    assert "资格问题" in ours.get("/portal/questions").text


# Isolation: another exhibitor's ids on every route are not found and change nothing.

ROUTES = [
    ("get", "/portal/leads/{their_lead}", None),
    ("post", "/portal/leads/{their_lead}", {"rating": "hot", "notes": "x"}),
    ("post", "/portal/leads/{their_lead}/request-contact", {"message": "x"}),
    ("json", "/portal/api/leads/{their_lead}", {"rating": "hot", "notes": "x"}),
    ("post", "/portal/questions/{other_question}", {"label": "x", "kind": "checkbox"}),
    ("post", "/portal/questions/{other_question}/delete", {}),
    ("post", "/portal/questions/{other_question}/move", {"direction": "up"}),
    ("get", "/portal/leads?scanned_by={their_user}", None),
    ("post", "/portal/leads/download", {"format": "csv", "scanned_by": "{their_user}"}),
]


def _state(db, stand) -> tuple:
    def read(s):
        lead = s.get(Lead, stand["their_lead"])
        question = s.get(LeadQuestion, stand["other_question"])
        return (lead.rating, lead.notes, lead.updated_at, question.label, question.position,
                len(s.scalars(select(OutboxMessage)).all()),
                len(s.scalars(select(AuditLog).where(AuditLog.action == "exporters.leads.downloaded")).all()))
    return db(read)


@pytest.mark.parametrize("method, path, data", ROUTES, ids=[f"{m} {p}" for m, p, _d in ROUTES])
def test_another_exhibitors_ids_are_not_found(ours, db, stand, method, path, data):
    ids = {"their_lead": stand["their_lead"], "other_question": stand["other_question"],
           "their_user": stand["theirs"].id}
    path = path.format(**ids)
    before = _state(db, stand)
    token = csrf(ours, "/portal/leads")
    if method == "get":
        answer = ours.get(path)
    elif method == "json":
        answer = ours.post(path, json=data, headers={"X-CSRF-Token": token, "Accept": "application/json"})
    else:
        answer = ours.post(path, data={"csrf_token": token, **{k: v.format(**ids) for k, v in data.items()}})
    assert answer.status_code == 404, answer.text[:300]
    assert "他们的备注" not in answer.text and "李娜" not in answer.text
    assert _state(db, stand) == before


def test_the_route_list_covers_every_booth_route_with_an_id(app):
    from event_phases.on_site import booth_web

    with_ids = {route.path for route in booth_web.routes if "{" in route.path}
    tried = {path.split("?")[0].replace("{their_lead}", "{lead_id:id}").replace("{other_question}",
                                                                                "{question_id:id}")
             for _method, path, _data in ROUTES}
    assert with_ids <= tried


def test_other_exhibitors_and_staff_users_do_not_reach_the_booth_pages(client, session, stand):
    factories.staff_user(session, username="bob")
    factories.login(client, account="bob")
    for path in ("/portal/scan", "/portal/leads", "/portal/questions", "/portal/dashboard"):
        assert "/exhibitor/login" in client.get(path, follow_redirects=False).headers["location"]
    assert client.post("/portal/api/leads", json={"code": stand["shared"], "scan_id": "x"},
                       headers={"Accept": "application/json"}).status_code == 403
    with TestClient(client.app) as theirs:
        sign_in(theirs, stand["theirs"])
        assert "李娜" in theirs.get("/portal/leads").text and "王伟" not in theirs.get("/portal/leads").text

