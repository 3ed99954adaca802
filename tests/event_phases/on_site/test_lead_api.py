"""The lead API as phones and apps call it: tokens, verdicts, offline batches, the lead list files, isolation."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import openpyxl
import pandas as pd
import pytest
from sqlmodel import select

from badge_scanner import uploads
from badge_scanner.codes import load_signer
from event_phases.on_site import lead_api
from exhibit_crm import auth
from exhibit_crm.models import AuditLog, Contact, Gate, Lead, LeadDownload, LeadQuestion, LeadScan
from tests import factories


@pytest.fixture
def stand(session, settings, client):
    """Two exhibitors with a token each, two visitors (one sharing their details), and their badge codes."""
    ed = factories.edition(session)
    ours = factories.exhibitor_user(session, ed)
    theirs = factories.exhibitor_user(session, ed, email="sales@other.example.cn", company="深圳另一家具",
                                      booth_number="N1-A02")
    question = LeadQuestion(exhibitor_id=ours.exhibitor_id, label="预算已确认", kind="checkbox")
    session.add(question)
    shared = factories.registration(session, ed, full_name="王伟", email="wang.wei@example.cn", company="上海宜家家居")
    private = factories.registration(session, ed, full_name="李娜", email="li.na@example.cn", company="杭州家居")
    contact = session.get(Contact, shared.contact_id)
    contact.consent_share = True
    session.add(contact)
    token, _ = auth.create_api_token(session, exhibitor_user_email=ours.email)
    other_token, _ = auth.create_api_token(session, exhibitor_user_email=theirs.email)
    factories.staff_user(session, username="bob")
    staff_token, _ = auth.create_api_token(session, username="bob")
    gate = session.scalars(select(Gate)).first()
    device_token, _device = auth.create_device(session, gate_id=gate.id, name="Scanner 1")
    session.commit()
    signer = load_signer(settings.data_dir)
    return {"ours": ours, "theirs": theirs, "question": str(question.id),
            "shared": signer.sign(shared.id, 1), "private": signer.sign(private.id, 1),
            "auth": {"Authorization": f"Bearer {token}"}, "other": {"Authorization": f"Bearer {other_token}"},
            "staff": {"Authorization": f"Bearer {staff_token}"}, "device": {"Authorization": f"Bearer {device_token}"}}


def test_a_scan_opens_a_lead_with_what_the_visitor_shares(client, stand):
    answer = client.post("/api/v1/leads", headers=stand["auth"], json={
        "code": stand["shared"], "scan_id": "p-1", "rating": "hot", "notes": "要报价",
        "answers": {stand["question"]: True}})
    assert answer.status_code == 200
    body = answer.json()
    assert (body["verdict"], body["reason"], body["lead"]["rating"], body["lead"]["notes"]) == (
        "accepted", None, "hot", "要报价")
    assert body["visitor"]["email"] == "wang.wei@example.cn"
    private = client.post("/api/v1/leads", headers=stand["auth"], json={"code": stand["private"], "scan_id": "p-2"})
    assert private.json()["visitor"]["name"] == "李娜" and private.json()["visitor"]["email"] == ""


def test_a_forged_code_is_rejected_and_tells_nothing(client, stand):
    forged = stand["shared"][:-6] + ("A" * 6 if not stand["shared"].endswith("A" * 6) else "B" * 6)
    body = client.post("/api/v1/leads", headers=stand["auth"], json={"code": forged, "scan_id": "f"}).json()
    assert (body["verdict"], body["reason"], body["lead"], body["visitor"]) == (
        "rejected", "invalid_code", None, None)


@pytest.mark.parametrize("who, status", [(None, 401), ("bogus", 401), ("staff", 403), ("device", 403)])
def test_only_exhibitor_users_tokens_scan_leads(client, stand, who, status):
    headers = {"bogus": {"Authorization": "Bearer ece_nothing"}}.get(who, stand.get(who) or {})
    for method, path, kwargs in (("post", "/api/v1/leads", {"json": {"code": stand["shared"], "scan_id": "x"}}),
                                 ("post", "/api/v1/leads/batch", {"json": {"leads": []}}),
                                 ("get", "/api/v1/leads", {})):
        answer = getattr(client, method)(path, headers=headers, **kwargs)
        assert answer.status_code == status, (method, path)
        assert "王伟" not in answer.text


def test_a_signed_in_exhibitor_users_session_cookie_does_not_reach_the_api(client, session, stand):
    """A cross-site link to a lead download must not reset "new since my last download": the API takes tokens only;
    the portal downloads through its own form."""
    client.post("/api/v1/leads", headers=stand["auth"], json={"code": stand["shared"], "scan_id": "c-1"})
    assert factories.login(client, account=stand["ours"].email, path="/exhibitor/login").status_code == 303
    assert client.get("/portal").status_code == 200  # signed in
    for method, path, kwargs in (("get", "/api/v1/leads?format=csv&new_only=1", {}), ("get", "/api/v1/leads", {}),
                                 ("post", "/api/v1/leads", {"json": {"code": stand["shared"], "scan_id": "c-2"}})):
        answer = getattr(client, method)(path, **kwargs)
        assert (answer.status_code, answer.json()["error"]) == (401, "unauthorized"), path
        assert "王伟" not in answer.text
    assert session.scalars(select(LeadDownload)).all() == []
    assert len(session.scalars(select(LeadScan)).all()) == 1
    listed = client.get("/api/v1/leads?new_only=1", headers=stand["auth"]).json()
    assert [lead["visitor"]["name"] for lead in listed] == ["王伟"]


@pytest.mark.parametrize("body, field", [
    ({"scan_id": "x"}, "code"),
    ({"code": "C", "scan_id": ""}, "scan_id"),
    ({"code": "C", "scan_id": "x", "rating": "lukewarm"}, "rating"),
])
def test_a_malformed_scan_is_a_422_naming_the_field(client, stand, body, field):
    answer = client.post("/api/v1/leads", headers=stand["auth"], json=body)
    assert answer.status_code == 422 and answer.json()["field"] == field


def test_an_offline_batch_is_judged_in_order_and_a_replay_records_nothing(client, session, stand):
    batch = {"leads": [{"code": stand["shared"], "scan_id": "o-1", "rating": "warm"},
                       {"code": stand["private"], "scan_id": "o-2", "answers": {"999999": True}},
                       {"code": stand["private"], "scan_id": "o-3", "notes": "离线记录"},
                       {"scan_id": "o-4"}]}
    first = client.post("/api/v1/leads/batch", headers=stand["auth"], json=batch)
    assert first.status_code == 200
    results = first.json()["results"]
    assert [r.get("verdict") for r in results] == ["accepted", None, "accepted", None]
    assert results[1]["error"]["field"] == "leads[1].answers.999999"
    assert results[3] == {"scan_id": "o-4", "error": {"code": "invalid", "field": "leads[3].code",
                                                      "message": results[3]["error"]["message"]}}
    again = client.post("/api/v1/leads/batch", headers=stand["auth"], json=batch).json()["results"]
    assert [r.get("lead", {}) and r["lead"]["id"] for r in again] == [r.get("lead", {}) and r["lead"]["id"]
                                                                       for r in results]
    session.expire_all()
    assert len(session.scalars(select(LeadScan)).all()) == 2
    assert len(session.scalars(select(Lead)).all()) == 2


def test_a_batch_of_valid_items_is_answered_as_when_it_is_taken_apart_item_by_item(client, session, stand,
                                                                                 monkeypatch):
    # the second batch has one malformed item more, which makes the server validate it item by item; an unknown
    # question is refused by the service either way
    one_by_one = []
    item_by_item = lead_api._batch_item
    monkeypatch.setattr(lead_api, "_batch_item", lambda *args: one_by_one.append(args[0]) or item_by_item(*args))
    leads = [{"code": stand["shared"], "scan_id": "v-1", "rating": "hot", "notes": "要样品",
              "scanned_at": "2026-03-10T11:00:00+08:00", "app": "booth 3.2"},
             {"code": stand["private"], "scan_id": "v-2", "answers": {"999999": True}},
             {"code": "Z" * 116, "scan_id": "v-3"}]
    whole = client.post("/api/v1/leads/batch", headers=stand["auth"], json={"leads": leads}).json()["results"]
    assert one_by_one == []
    apart = client.post("/api/v1/leads/batch", headers=stand["other"],
                        json={"leads": [*leads, {"scan_id": "v-4"}]}).json()["results"]
    assert one_by_one == [0, 1, 2, 3]
    assert whole[1] == apart[1] == {"scan_id": "v-2", "error": {
        "code": "invalid", "field": "leads[1].answers.999999", "message": whole[1]["error"]["message"]}}
    assert [(r.get("verdict"), r.get("reason")) for r in whole] == [("accepted", None), (None, None),
                                                                     ("rejected", "invalid_code")]
    assert [(r.get("verdict"), r.get("reason")) for r in apart[:3]] == [("accepted", None), (None, None),
                                                                         ("rejected", "invalid_code")]
    assert [(r["lead"]["rating"], r["lead"]["notes"], r["visitor"]) for r in (whole[0], apart[0])] == [
        ("hot", "要样品", whole[0]["visitor"])] * 2
    assert whole[0]["visitor"]["email"] == "wang.wei@example.cn"


def test_the_lead_list_downloads_and_is_audited(client, session, stand):
    client.post("/api/v1/leads", headers=stand["auth"], json={"code": stand["shared"], "scan_id": "1",
                                                              "rating": "hot", "answers": {stand["question"]: True}})
    client.post("/api/v1/leads", headers=stand["auth"], json={"code": stand["private"], "scan_id": "2"})
    listed = client.get("/api/v1/leads", headers=stand["auth"]).json()
    assert [item["visitor"]["name"] for item in listed] == ["王伟", "李娜"]
    csv = client.get("/api/v1/leads?format=csv", headers=stand["auth"])
    assert csv.status_code == 200 and csv.headers["x-rows"] == "2"
    assert "attachment" in csv.headers["content-disposition"]
    frame = pd.read_csv(io.BytesIO(csv.content), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(frame["E-mail"]) == ["wang.wei@example.cn", ""]
    xlsx = client.get("/api/v1/leads?format=xlsx&rating=hot", headers=stand["auth"])
    rows = list(openpyxl.load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    assert len(rows) == 2 and "王伟" in rows[1] and rows[1][-1] is True
    crm = client.get("/api/v1/leads?format=crm-csv", headers=stand["auth"])
    assert pd.read_csv(io.BytesIO(crm.content), encoding="utf-8-sig", dtype=str, keep_default_na=False)[
        "Last Name"].tolist() == ["王", "李"]
    entries = session.scalars(select(AuditLog).where(AuditLog.action == "exporters.leads.downloaded")
                              .order_by(AuditLog.id)).all()
    assert [(e.actor_id, e.data["format"], e.data["rows"]) for e in entries] == [
        (stand["ours"].id, "csv", 2), (stand["ours"].id, "xlsx", 1), (stand["ours"].id, "crm-csv", 2)]


@pytest.mark.parametrize("query, field", [("format=pdf", "format"), ("rating=lukewarm", "rating"),
                                          ("since=yesterday", "since"), ("until=2026-03-10T10:00", "until"),
                                          ("scanned_by=abc", "scanned_by")])
def test_bad_list_parameters_are_a_422_naming_them(client, stand, query, field):
    answer = client.get(f"/api/v1/leads?{query}", headers=stand["auth"])
    assert answer.status_code == 422 and answer.json()["field"] == field


def test_each_exhibitor_sees_only_its_own_leads(client, session, stand):
    client.post("/api/v1/leads", headers=stand["auth"], json={"code": stand["shared"], "scan_id": "same-id"})
    theirs = client.post("/api/v1/leads", headers=stand["other"], json={"code": stand["private"],
                                                                          "scan_id": "same-id"})
    assert theirs.json()["verdict"] == "accepted" and theirs.json()["visitor"]["name"] == "李娜"
    assert [i["visitor"]["name"] for i in client.get("/api/v1/leads", headers=stand["auth"]).json()] == ["王伟"]
    assert [i["visitor"]["name"] for i in client.get("/api/v1/leads", headers=stand["other"]).json()] == ["李娜"]
    other_question = client.post("/api/v1/leads", headers=stand["other"], json={
        "code": stand["private"], "scan_id": "q", "answers": {stand["question"]: True}})
    assert other_question.status_code == 422
    csv = client.get("/api/v1/leads?format=csv&scanned_by=" + str(stand["ours"].id), headers=stand["other"])
    assert csv.headers["x-rows"] == "0"


def test_a_lead_batch_over_the_body_limit_is_413_and_records_nothing(client, session, stand, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_BATCH_BODY", 1000)
    batch = {"leads": [{"code": stand["shared"], "scan_id": f"big-{i}", "notes": "x" * 50} for i in range(20)]}
    answer = client.post("/api/v1/leads/batch", headers=stand["auth"], json=batch)
    assert (answer.status_code, answer.json()["error"]) == (413, "too_large")
    session.expire_all()
    assert session.scalars(select(LeadScan)).all() == []


def test_a_lead_batch_of_countless_tiny_items_is_a_422(client, stand, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_BATCH_VALUES", 50)
    answer = client.post("/api/v1/leads/batch", headers=stand["auth"], json={"leads": [0] * 60})
    assert (answer.status_code, answer.json()["field"]) == (422, "leads")


def test_a_single_booth_scan_over_its_limit_is_413(client, stand):
    answer = client.post("/api/v1/leads", headers=stand["auth"], json={
        "code": stand["shared"], "scan_id": "x", "padding": "x" * uploads.MAX_ITEM_BODY})
    assert (answer.status_code, answer.json()["error"]) == (413, "too_large")


FAR_TIMES = ["0001-01-01T00:00:00+05:00", "9999-12-31", "9999-12-31T23:59:59-05:00", 0]


@pytest.mark.parametrize("scanned_at", [*FAR_TIMES, (datetime.now(UTC) + timedelta(hours=1)).isoformat()])
def test_a_booth_scan_time_far_off_or_ahead_of_the_server_is_422_naming_it(client, session, stand, scanned_at):
    answer = client.post("/api/v1/leads", headers=stand["auth"], json={
        "code": stand["shared"], "scan_id": "far", "scanned_at": scanned_at})
    assert (answer.status_code, answer.json()["field"]) == (422, "scanned_at")
    session.expire_all()
    assert session.scalars(select(LeadScan)).all() == []


def test_a_batch_item_with_a_far_or_future_time_gets_its_own_error_entry_every_time(client, session, stand):
    ahead = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    batch = {"leads": [{"code": stand["shared"], "scan_id": "near"},
                       {"code": stand["private"], "scan_id": "far", "scanned_at": FAR_TIMES[0]},
                       {"code": stand["private"], "scan_id": "ahead", "scanned_at": ahead}]}
    for _ in range(2):
        answer = client.post("/api/v1/leads/batch", headers=stand["auth"], json=batch)
        assert answer.status_code == 200, answer.text
        near, far, later = answer.json()["results"]
        assert near["verdict"] == "accepted"
        assert (far["scan_id"], far["error"]["field"]) == ("far", "leads[1].scanned_at")
        assert (later["scan_id"], later["error"]["field"]) == ("ahead", "leads[2].scanned_at")
    session.expire_all()
    assert len(session.scalars(select(LeadScan)).all()) == 1


@pytest.mark.parametrize("name", ["since", "until"])
@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
def test_list_filters_far_off_are_a_422_naming_them(client, stand, name, value):
    answer = client.get("/api/v1/leads", params={name: value}, headers=stand["auth"])
    assert (answer.status_code, answer.json()["field"]) == (422, name)
    answer = client.get("/api/v1/leads", params={name: value, "format": "csv"}, headers=stand["auth"])
    assert (answer.status_code, answer.json()["field"]) == (422, name)
