"""Booth scans: a lead per visitor, updated by later scans, idempotent by scan_id, consent-aware answers."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from badge_scanner import issued_badges as badges
from badge_scanner import leads as leads_module
from badge_scanner.codes import Signer
from badge_scanner.leads import LeadScanRequest, record_lead_scans, scan_lead, scan_leads, update_lead
from exhibit_crm import audit
from exhibit_crm.errors import InvalidInput, NotFound
from exhibit_crm.models import Contact, Lead, LeadQuestion, LeadScan
from tests import factories

NOW = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer.generate()


@pytest.fixture
def booth(session):
    ed = factories.edition(session)
    user = factories.exhibitor_user(session, ed)
    other = factories.exhibitor_user(session, ed, email="sales@other.example.cn", company="深圳另一家具",
                                     booth_number="N1-A02")
    budget = LeadQuestion(exhibitor_id=user.exhibitor_id, label="预算已确认", kind="checkbox")
    volume = LeadQuestion(exhibitor_id=user.exhibitor_id, label="Order volume", kind="select",
                          options=["< 1 container", "> 5 containers"])
    foreign = LeadQuestion(exhibitor_id=other.exhibitor_id, label="Theirs", kind="checkbox")
    session.add_all([budget, volume, foreign])
    shared = factories.registration(session, ed, full_name="王伟", email="wang.wei@example.cn", company="上海宜家家居")
    private = factories.registration(session, ed, full_name="李娜", email="li.na@example.cn", company="杭州家居")
    contact = session.get(Contact, shared.contact_id)
    contact.consent_share = True
    session.add(contact)
    session.commit()
    return {"ed": ed, "exhibitor_id": user.exhibitor_id, "user_id": user.id, "other_id": other.exhibitor_id,
            "shared": shared, "private": private, "budget": str(budget.id), "volume": str(volume.id),
            "foreign": str(foreign.id)}


def _scan(session, booth, signer, registration, scan_id, *, exhibitor_id=None, now=NOW, **fields):
    code = signer.sign(registration.id, registration.badge_version) if registration is not None else "NOT-A-CODE"
    return scan_lead(session, exhibitor_id=exhibitor_id or booth["exhibitor_id"], user_id=booth["user_id"],
                     request=LeadScanRequest(code=code, scan_id=scan_id, **fields), verifier=signer.verifier,
                     now=now)


def test_a_scan_opens_a_lead_and_a_second_scan_updates_it(session, booth, signer):
    first = _scan(session, booth, signer, booth["shared"], "phone-1", rating="warm",
                  answers={booth["budget"]: True})
    assert (first["verdict"], first["reason"]) == ("accepted", None)
    assert first["lead"]["rating"] == "warm" and first["lead"]["answers"] == {booth["budget"]: True}
    again = _scan(session, booth, signer, booth["shared"], "phone-2", now=NOW + timedelta(minutes=5), rating="hot",
                  notes="要报价", answers={booth["volume"]: "> 5 containers"})
    assert again["lead"]["id"] == first["lead"]["id"]
    assert again["lead"]["rating"] == "hot" and again["lead"]["notes"] == "要报价"
    assert again["lead"]["answers"] == {booth["budget"]: True, booth["volume"]: "> 5 containers"}
    session.commit()
    assert len(session.scalars(select(Lead)).all()) == 1
    assert len(session.scalars(select(LeadScan)).all()) == 2


def test_a_repeated_scan_id_returns_the_first_answer_and_records_nothing(session, booth, signer):
    first = _scan(session, booth, signer, booth["shared"], "offline-7", rating="cold")
    session.commit()
    replay = _scan(session, booth, signer, booth["shared"], "offline-7", rating="hot", notes="changed?")
    assert replay["verdict"] == "accepted" and replay["lead"]["id"] == first["lead"]["id"]
    assert replay["lead"]["rating"] == "cold" and replay["lead"]["notes"] == ""
    session.commit()
    assert len(session.scalars(select(LeadScan)).all()) == 1


def test_the_visitor_shown_follows_their_consent(session, booth, signer):
    shared = _scan(session, booth, signer, booth["shared"], "s1")["visitor"]
    assert (shared["name"], shared["company"], shared["email"], shared["shared"]) == (
        "王伟", "上海宜家家居", "wang.wei@example.cn", True)
    private = _scan(session, booth, signer, booth["private"], "s2")["visitor"]
    assert (private["name"], private["company"], private["badge_type"]) == ("李娜", "杭州家居", "trade_visitor")
    assert private["email"] == private["phone"] == private["title"] == "" and private["shared"] is False


def test_badges_that_would_not_pass_the_gates_make_no_lead(session, booth, signer):
    assert _scan(session, booth, signer, None, "bad")["reason"] == "invalid_code"
    forged = signer.sign(booth["shared"].id, 1)[:-4] + "AAAA"
    refused = scan_lead(session, exhibitor_id=booth["exhibitor_id"], user_id=None, verifier=signer.verifier,
                        request=LeadScanRequest(code=forged, scan_id="forged"), now=NOW)
    assert refused["reason"] == "invalid_code" and refused["visitor"] is None
    old_code = signer.sign(booth["private"].id, 1)
    badges.reprint(session, registration_id=booth["private"].id, actor=audit.SYSTEM, reason="lost")
    outdated = scan_lead(session, exhibitor_id=booth["exhibitor_id"], user_id=None, verifier=signer.verifier,
                         request=LeadScanRequest(code=old_code, scan_id="old"), now=NOW)
    assert (outdated["verdict"], outdated["reason"], outdated["visitor"]) == ("rejected", "outdated_badge", None)
    badges.cancel(session, registration_id=booth["shared"].id, actor=audit.SYSTEM)
    session.refresh(booth["shared"])
    assert _scan(session, booth, signer, booth["shared"], "cancelled")["reason"] == "revoked"
    session.commit()
    assert session.scalars(select(Lead)).all() == []
    assert sorted(scan.reason for scan in session.scalars(select(LeadScan))) == [
        "invalid_code", "invalid_code", "outdated_badge", "revoked"]


def test_a_badge_of_another_edition_is_refused(session, booth, signer):
    later = factories.edition(session, name="Furniture Fair 2027", year=2027)
    visitor = factories.registration(session, later, full_name="张三", email="zhang@example.cn")
    assert _scan(session, booth, signer, visitor, "x")["reason"] == "other_edition"


@pytest.mark.parametrize("fields, field", [
    ({"rating": "lukewarm"}, "rating"),
    ({"notes": "x" * 4001}, "notes"),
    ({"answers": {"999999": True}}, "answers.999999"),
    ({"answers": {"{volume}": "a truckload"}}, "answers.{volume}"),
    ({"answers": {"{budget}": "yes"}}, "answers.{budget}"),
    ({"answers": {"{foreign}": True}}, "answers.{foreign}"),
])
def test_bad_fields_are_refused_by_name_and_nothing_is_recorded(session, booth, signer, fields, field):
    fields = {key: ({k.format(**booth): v for k, v in value.items()} if isinstance(value, dict) else value)
              for key, value in fields.items()}
    with pytest.raises(InvalidInput) as refused:
        _scan(session, booth, signer, booth["shared"], "bad-field", **fields)
    assert refused.value.field == field.format(**booth)
    session.rollback()
    assert session.scalars(select(LeadScan)).all() == [] and session.scalars(select(Lead)).all() == []


def test_a_lead_is_updated_only_by_its_own_exhibitor(session, booth, signer):
    lead_id = _scan(session, booth, signer, booth["shared"], "s")["lead"]["id"]
    lead = update_lead(session, exhibitor_id=booth["exhibitor_id"], lead_id=lead_id, rating="hot", notes="回访",
                       now=NOW + timedelta(hours=1))
    assert (lead.rating, lead.notes, lead.updated_at) == ("hot", "回访", NOW + timedelta(hours=1))
    with pytest.raises(NotFound):
        update_lead(session, exhibitor_id=booth["other_id"], lead_id=lead_id, rating="cold", now=NOW)


def test_two_phones_scanning_the_same_visitor_at_once_make_one_lead(engine, booth, signer):
    barrier = threading.Barrier(2)
    answers, errors = [], []

    def phone(scan_id: str) -> None:
        try:
            with Session(engine) as own:
                barrier.wait()
                answers.append(_scan(own, booth, signer, booth["shared"], scan_id))
                own.commit()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=phone, args=(f"phone-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert {answer["lead"]["id"] for answer in answers} and len({a["lead"]["id"] for a in answers}) == 1
    with Session(engine) as check:
        assert len(check.scalars(select(Lead)).all()) == 1
        assert len(check.scalars(select(LeadScan)).all()) == 2


def _group(booth, signer):
    def code(registration):
        return signer.sign(registration.id, registration.badge_version)
    me, other = booth["exhibitor_id"], booth["other_id"]
    return [
        (me, booth["user_id"], LeadScanRequest(code=code(booth["shared"]), scan_id="g1", rating="hot",
                                               answers={booth["budget"]: True})),
        (me, booth["user_id"], LeadScanRequest(code=code(booth["private"]), scan_id="g2", notes="要报价")),
        (me, booth["user_id"], LeadScanRequest(code=code(booth["shared"]), scan_id="g3", rating="cold",
                                               answers={booth["volume"]: "> 5 containers"})),
        (me, booth["user_id"], LeadScanRequest(code=code(booth["shared"]), scan_id="g1", rating="warm")),
        (me, booth["user_id"], LeadScanRequest(code=code(booth["shared"]), scan_id="g4", rating="lukewarm")),
        (me, booth["user_id"], LeadScanRequest(code=code(booth["shared"]), scan_id="g5",
                                               answers={booth["foreign"]: True})),
        (me, booth["user_id"], LeadScanRequest(code="Z" * 116, scan_id="g6")),
        (other, None, LeadScanRequest(code=code(booth["shared"]), scan_id="g1")),
    ]


def _comparable(results):
    def plain(result):
        if isinstance(result, InvalidInput):
            return ("refused", result.field)
        lead = result["lead"] and {k: v for k, v in result["lead"].items() if k != "id"}
        return {**result, "lead": lead}
    return [plain(result) for result in results]


def test_a_group_of_scans_is_answered_and_recorded_as_one_by_one(session, booth, signer):
    items = _group(booth, signer)
    grouped = scan_leads(session, items=items, verifier=signer.verifier, now=NOW)
    recorded = session.exec(select(LeadScan.exhibitor_id, LeadScan.scan_id, LeadScan.verdict, LeadScan.reason)
                            .order_by(LeadScan.exhibitor_id, LeadScan.scan_id)).all()
    leads = session.exec(select(Lead.exhibitor_id, Lead.rating, Lead.notes, Lead.answers).order_by(Lead.id)).all()
    assert [g["lead"]["id"] for g in grouped[:4]] == [grouped[0]["lead"]["id"], grouped[1]["lead"]["id"],
                                                       grouped[0]["lead"]["id"], grouped[0]["lead"]["id"]]
    session.rollback()
    one_by_one = []
    for exhibitor_id, user_id, request in items:
        try:
            one_by_one.append(scan_lead(session, exhibitor_id=exhibitor_id, user_id=user_id, request=request,
                                        verifier=signer.verifier, now=NOW))
        except InvalidInput as refused:
            one_by_one.append(refused)
    assert _comparable(grouped) == _comparable(one_by_one)
    assert grouped[3]["lead"]["rating"] == "cold" and grouped[1]["visitor"]["shared"] is False
    assert session.exec(select(LeadScan.exhibitor_id, LeadScan.scan_id, LeadScan.verdict, LeadScan.reason)
                        .order_by(LeadScan.exhibitor_id, LeadScan.scan_id)).all() == recorded
    assert session.exec(select(Lead.exhibitor_id, Lead.rating, Lead.notes, Lead.answers)
                        .order_by(Lead.id)).all() == leads


def _record_group(entry, session, items, verifier):
    """A group through scan_leads (an ORM session: offline batches) or record_lead_scans (a connection in a
    transaction: the lead API's group writer), committed."""
    if entry == "session":
        results = scan_leads(session, items=items, verifier=verifier, now=NOW)
        session.commit()
        return results
    session.commit()
    with session.get_bind().begin() as connection:
        return record_lead_scans(connection, items=items, verifier=verifier, now=NOW)


@pytest.mark.parametrize("entry", ["session", "connection"])
def test_a_group_that_meets_a_concurrent_insert_is_judged_scan_by_scan(session, booth, signer, monkeypatch, entry):
    def conflict(self):
        raise IntegrityError("INSERT INTO lead …", {}, Exception("duplicate key"))
    monkeypatch.setattr(leads_module._GroupScan, "run", conflict)
    results = _record_group(entry, session, _group(booth, signer), signer.verifier)
    assert [r["verdict"] if isinstance(r, dict) else "refused" for r in results] == [
        "accepted", "accepted", "accepted", "accepted", "refused", "refused", "rejected", "accepted"]
    assert results[3]["lead"]["rating"] == "cold"


@pytest.mark.parametrize("entry", ["session", "connection"])
def test_a_lead_recorded_meanwhile_by_another_process_sends_the_group_scan_by_scan(session, booth, signer,
                                                                                  monkeypatch, entry):
    # the lead exists in the database but the group did not see it, as when another process inserted it after the
    # group read: the group's own insert meets the unique constraint, and nothing of the group stays
    _scan(session, booth, signer, booth["shared"], "before", rating="warm")
    monkeypatch.setattr(leads_module._GroupScan, "_read_leads", lambda self, rows: None)
    results = _record_group(entry, session, _group(booth, signer), signer.verifier)
    assert [r["verdict"] if isinstance(r, dict) else "refused" for r in results] == [
        "accepted", "accepted", "accepted", "accepted", "refused", "refused", "rejected", "accepted"]
    assert results[3]["lead"]["rating"] == "cold" and results[0]["lead"]["answers"] == {booth["budget"]: True}
    assert len(session.exec(select(Lead).where(Lead.exhibitor_id == booth["exhibitor_id"])).all()) == 2
    assert len(session.exec(select(LeadScan)).all()) == 6  # "before" and the five new scan_ids of the group
