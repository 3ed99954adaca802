"""The post-show lead report: one mail per exhibitor with leads, to its active users, with its figures and the
download link; running it again queues nothing twice."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from badge_scanner.codes import load_signer
from badge_scanner.leads import BoothScan, scan_lead
from event_phases.post_show.lead_report import send_lead_reports
from exhibit_crm.cli import main
from exhibit_crm.models import AuditLog, ExhibitorUser, OutboxMessage
from tests import factories

# 2026-03-10 10:00 and 2026-03-11 01:30 in Shanghai (the second is still the 10th in UTC)
FIRST, SECOND = datetime(2026, 3, 10, 2, 0, tzinfo=UTC), datetime(2026, 3, 10, 17, 30, tzinfo=UTC)


@pytest.fixture
def show(session, tmp_path):
    ed = factories.edition(session)
    ours = factories.exhibitor_user(session, ed)
    quiet = factories.exhibitor_user(session, ed, email="sales@quiet.example.cn", company="无线索家具",
                                     booth_number="N1-A03")
    signer = load_signer(tmp_path / "data")
    visitors = [factories.registration(session, ed, full_name=name) for name in ("王伟", "李娜", "张敏")]
    for n, (visitor, rating, when) in enumerate(zip(visitors, ("hot", "hot", None), (FIRST, SECOND, SECOND),
                                                    strict=True)):
        scan_lead(session, exhibitor_id=ours.exhibitor_id, user_id=ours.id, verifier=signer.verifier, now=when,
                  scan=BoothScan(code=signer.sign(visitor.id, 1), scan_id=f"s-{n}", rating=rating))
    scan_lead(session, exhibitor_id=ours.exhibitor_id, user_id=ours.id, verifier=signer.verifier, now=SECOND,
              scan=BoothScan(code=signer.sign(visitors[0].id, 1), scan_id="again"))
    session.commit()
    return {"edition": ed, "ours": ours, "quiet": quiet}


def _reports(db) -> list[OutboxMessage]:
    return db(lambda s: s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "lead_report")).all())


def test_one_mail_per_exhibitor_with_leads_and_never_twice(session, db, show):
    run = send_lead_reports(session, edition_id=show["edition"].id, base_url="https://crm.example.cn/")
    session.commit()
    assert [item["exhibitor_id"] for item in run.queued] == [show["ours"].exhibitor_id]
    (mail,) = _reports(db)
    assert mail.to_addr == "sales@huamei.example.cn"
    body = mail.text_body
    assert "https://crm.example.cn/portal/leads" in body and "广州华美家居有限公司" in body
    for line in ("2026-03-10: 1", "2026-03-11: 2", "陈静: 4"):
        assert line in body, line
    assert "3" in mail.subject or "Furniture Fair 2026" in mail.subject
    again = send_lead_reports(session, edition_id=show["edition"].id, base_url="https://crm.example.cn/")
    session.commit()
    assert again.queued == [] and again.skipped == [show["ours"].exhibitor_id]
    assert len(_reports(db)) == 1


def test_inactive_users_get_no_report(session, db, show):
    user = session.get(ExhibitorUser, show["ours"].id)
    user.is_active = False
    session.add(user)
    session.commit()
    run = send_lead_reports(session, edition_id=show["edition"].id, base_url="http://x")
    session.commit()
    assert run.queued == [] and _reports(db) == []


def test_the_command_reports_as_json_and_is_audited(monkeypatch, capsys, database_url, db, show, tmp_path):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BASE_URL", "https://crm.example.cn")
    assert main(["leads", "report", "--edition", str(show["edition"].id), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["exhibitors_mailed"], report["mails"]) == (1, 1)
    assert report["queued"][0]["by_rating"] == {"hot": 2, "warm": 0, "cold": 0, "unrated": 1}
    assert main(["leads", "report", "--edition", str(show["edition"].id), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["mails"] == 0
    entries = db(lambda s: s.scalars(select(AuditLog).where(
        AuditLog.action == "event_phases.post_show.lead_report.queued")).all())
    assert [(e.object_id, e.actor_type) for e in entries] == [(show["ours"].exhibitor_id, "cli")]
    assert main(["leads", "report", "--edition", "999999", "--json"]) == 1


def test_each_user_gets_the_report_in_their_language(session, db, show):
    ours = show["ours"]
    for email, language in (("li.na@huamei.example.cn", "en"), ("wang.wei@huamei.example.cn", "zh-CN")):
        session.add(ExhibitorUser(exhibitor_id=ours.exhibitor_id, email=email, name="", language=language))
    session.commit()
    send_lead_reports(session, edition_id=show["edition"].id, base_url="https://crm.example.cn/")
    session.commit()
    mails = {mail.to_addr: mail for mail in _reports(db)}
    english, chinese = mails["li.na@huamei.example.cn"], mails["wang.wei@huamei.example.cn"]
    assert len(mails) == 3 and english.subject != chinese.subject and english.text_body != chinese.text_body
    first = mails[ours.email]  # the fixture's user: a report like the other user's of the same language
    like = english if session.get(ExhibitorUser, ours.id).language == "en" else chinese
    assert (first.subject, first.text_body, first.html_body) == (like.subject, like.text_body, like.html_body)
