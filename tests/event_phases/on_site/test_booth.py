"""The booth services: questions of the exhibitor's own, the list's filter in the edition's local days, the
dashboard's figures and the contact request's rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from badge_scanner.codes import load_signer
from badge_scanner.leads import BoothScan, LeadFilter, scan_lead
from event_phases.on_site import booth
from exhibit_crm import audit
from exhibit_crm.errors import Conflict, InvalidInput, NotFound
from exhibit_crm.models import (
    AuditLog,
    Contact,
    Exhibitor,
    Lead,
    LeadDownload,
    LeadQuestion,
    OutboxMessage,
    RegistrationInterest,
)
from tests import factories
from tests.badge_scanner.leads.listed import four_leads

FIRST, LATE = datetime(2026, 3, 10, 2, 0, tzinfo=UTC), datetime(2026, 3, 10, 17, 30, tzinfo=UTC)  # 03-10, 03-11 local
ACTOR = audit.Actor("exhibitor_user", 1, "sales@huamei.example.cn")


@pytest.fixture
def stand(session, tmp_path):
    ed = factories.edition(session)
    ours = factories.exhibitor_user(session, ed)
    theirs = factories.exhibitor_user(session, ed, email="sales@oak.example.cn", company="深圳橡木家具",
                                      booth_number="N1-A02")
    signer = load_signer(tmp_path / "data")
    people = [factories.registration(session, ed, full_name=name) for name in ("王伟", "李娜")]

    def scan(user, person, scan_id, now, rating=None):
        return scan_lead(session, exhibitor_id=user.exhibitor_id, user_id=user.id, verifier=signer.verifier, now=now,
                         scan=BoothScan(code=signer.sign(person.id, 1), scan_id=scan_id, rating=rating))
    scan(ours, people[0], "a", FIRST, "hot")
    scan(ours, people[1], "b", LATE)
    scan(ours, people[0], "c", LATE)
    their = scan(theirs, people[1], "t", FIRST)["lead"]["id"]
    session.commit()
    return {"ours": ours, "theirs": theirs, "people": people, "their_lead": their}


def test_questions_are_checked_and_kept_in_order(session, stand):
    exhibitor_id = stand["ours"].exhibitor_id
    first = booth.save_question(session, exhibitor_id=exhibitor_id, actor=ACTOR,
                                data=booth.QuestionIn(label="  预算  已确认 ", kind="checkbox", options=["x"]))
    second = booth.save_question(session, exhibitor_id=exhibitor_id, actor=ACTOR, data=booth.QuestionIn(
        label="产品", kind="select", options=["沙发", " 沙发 ", "", "餐桌"]))
    assert (first.label, first.options, second.options) == ("预算 已确认", [], ["沙发", "餐桌"])
    booth.move_question(session, exhibitor_id=exhibitor_id, question_id=second.id, up=True, actor=ACTOR)
    assert [q.label for q in booth.questions(session, exhibitor_id=exhibitor_id)] == ["产品", "预算 已确认"]
    for data, code in ((booth.QuestionIn(label=""), "required"), (booth.QuestionIn(label="x", kind="date"),
                                                                    "invalid_choice"),
                       (booth.QuestionIn(label="x", kind="select"), "options_required"),
                       (booth.QuestionIn(label="x" * 201), "too_long")):
        with pytest.raises(InvalidInput) as refused:
            booth.save_question(session, exhibitor_id=exhibitor_id, actor=ACTOR, data=data)
        assert refused.value.code == code
    with pytest.raises(NotFound):
        booth.delete_question(session, exhibitor_id=stand["theirs"].exhibitor_id, question_id=first.id, actor=ACTOR)
    booth.delete_question(session, exhibitor_id=exhibitor_id, question_id=first.id, actor=ACTOR)
    assert session.scalars(select(LeadQuestion)).all() == [second]


def test_the_list_filters_by_local_days_and_pages(session, stand):
    exhibitor_id = stand["ours"].exhibitor_id
    day_one = booth.lead_page(session, exhibitor_id=exhibitor_id, actor=ACTOR,
                              filters=LeadFilter(since=date(2026, 3, 10), until=date(2026, 3, 10)))
    assert [row.visitor.name for row in day_one.rows] == ["王伟"]
    paged = booth.lead_page(session, exhibitor_id=exhibitor_id, actor=ACTOR, filters=LeadFilter(), size=1,
                            page=2)
    assert (paged.total, paged.pages, [row.visitor.name for row in paged.rows]) == (2, 2, ["王伟"])
    with pytest.raises(NotFound):
        booth.lead_page(session, exhibitor_id=exhibitor_id, actor=ACTOR,
                        filters=LeadFilter(scanned_by_id=stand["theirs"].id))
    with pytest.raises(InvalidInput):
        booth.lead_page(session, exhibitor_id=exhibitor_id, actor=ACTOR,
                        filters=LeadFilter(since=date(2026, 3, 11), until=date(2026, 3, 10)))


def test_the_dashboard_counts_local_days_ratings_scans_and_matched_visitors(session, stand):
    exhibitor = session.get(Exhibitor, stand["ours"].exhibitor_id)
    exhibitor.product_categories = ["sofas"]
    session.add(exhibitor)
    for person in stand["people"]:
        session.add(RegistrationInterest(registration_id=person.id, edition_id=person.edition_id, category="sofas"))
    session.commit()
    found = booth.dashboard(session, exhibitor_id=exhibitor.id)
    figures = found.figures
    assert figures.leads == 2 and figures.by_rating == {"hot": 1, "warm": 0, "cold": 0, "unrated": 1}
    assert [(day.isoformat(), counts["hot"], counts["unrated"]) for day, counts in figures.by_day] == [
        ("2026-03-10", 1, 0), ("2026-03-11", 0, 1)]
    assert figures.by_staff == [("陈静", 3, 2)] and found.matched == 2 and found.booth == "N1-N1-A01"


def test_contact_requests_only_for_non_consenting_visitors_with_an_address(session, stand):
    exhibitor_id = stand["ours"].exhibitor_id
    lead = session.scalars(select(Lead).where(Lead.exhibitor_id == exhibitor_id,
                                              Lead.registration_id == stand["people"][1].id)).one()
    with pytest.raises(NotFound):
        booth.request_contact(session, exhibitor_id=exhibitor_id, lead_id=stand["their_lead"], message="",
                              reply_to="sales@huamei.example.cn", actor=ACTOR)
    contact = session.get(Contact, stand["people"][1].contact_id)
    contact.language = "en"
    session.add(contact)
    booth.request_contact(session, exhibitor_id=exhibitor_id, lead_id=lead.id, message="Catalogue?",
                          reply_to="Sales@Huamei.example.cn", actor=ACTOR)
    (mail,) = session.scalars(select(OutboxMessage)).all()
    assert "would like to be in touch" in mail.subject and "sales@huamei.example.cn" in mail.text_body
    with pytest.raises(Conflict) as again:
        booth.request_contact(session, exhibitor_id=exhibitor_id, lead_id=lead.id, message="", actor=ACTOR,
                              reply_to="sales@huamei.example.cn")
    assert again.value.code == "already_requested"
    contact = session.get(Contact, stand["people"][0].contact_id)
    contact.consent_share = True
    session.add(contact)
    shared = session.scalars(select(Lead).where(Lead.exhibitor_id == exhibitor_id,
                                                Lead.registration_id == stand["people"][0].id)).one()
    with pytest.raises(Conflict) as refused:
        booth.request_contact(session, exhibitor_id=exhibitor_id, lead_id=shared.id, message="", actor=ACTOR,
                              reply_to="sales@huamei.example.cn")
    assert refused.value.code == "visitor_shares" and len(session.scalars(select(OutboxMessage)).all()) == 1


# Downloads: every file through one service, kept for its user and audited.

@pytest.fixture
def listed(session):
    return four_leads(session)


def _download(session, listed, fmt, **kwargs):
    return booth.download_leads(session, exhibitor_id=listed["exhibitor_id"], fmt=fmt, actor=listed["actor"],
                                **kwargs)


def test_only_new_since_my_last_download(session, listed):
    first = _download(session, listed, "csv", filters=LeadFilter(new_only=True))
    assert first.rows == 4
    session.commit()
    assert _download(session, listed, "csv", filters=LeadFilter(new_only=True)).rows == 0
    lead = session.scalars(select(Lead).where(Lead.exhibitor_id == listed["exhibitor_id"])
                           .order_by(Lead.id)).first()
    lead.updated_at = datetime.now(UTC) + timedelta(seconds=1)
    session.add(lead)
    session.commit()
    again = _download(session, listed, "csv", filters=LeadFilter(new_only=True))
    assert again.rows == 1
    assert [d.rows for d in session.scalars(select(LeadDownload).order_by(LeadDownload.id))] == [4, 0, 1]


def test_every_download_is_in_the_audit_log_with_its_filters_as_instants(session, listed):
    for fmt in ("csv", "xlsx", "crm-csv"):
        _download(session, listed, fmt, filters=LeadFilter(rating="hot"))
    booth.download(session, exhibitor_id=listed["exhibitor_id"], fmt="csv", actor=listed["actor"], language="en",
                   filters=LeadFilter(since=date(2026, 3, 10)))
    session.commit()
    entries = session.scalars(select(AuditLog).where(AuditLog.action == "exporters.leads.downloaded")
                              .order_by(AuditLog.id)).all()
    assert [(e.data["format"], e.data["rows"], e.data["filters"]) for e in entries] == [
        ("csv", 1, {"rating": "hot"}), ("xlsx", 1, {"rating": "hot"}), ("crm-csv", 1, {"rating": "hot"}),
        ("csv", 4, {"since": "2026-03-10T00:00:00+08:00"})]
    assert {(e.actor_type, e.actor_id, e.object_type, e.object_id) for e in entries} == {
        ("exhibitor_user", listed["user_id"], "exhibitor", listed["exhibitor_id"])}


def test_an_unknown_format_is_refused_and_nothing_is_recorded(session, listed):
    with pytest.raises(InvalidInput) as refused:
        _download(session, listed, "pdf")
    assert refused.value.field == "format"
    assert session.scalars(select(AuditLog).where(AuditLog.action == "exporters.leads.downloaded")).all() == []
    assert session.scalars(select(LeadDownload)).all() == []
