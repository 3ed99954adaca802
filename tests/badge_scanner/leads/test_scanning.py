"""Booth scans: a lead per visitor, updated by later scans, idempotent by scan_id, consent-aware answers."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from badge_scanner import issued_badges as badges
from badge_scanner.leads import BoothScan, scan_lead, update_lead
from exhibit_crm import audit
from exhibit_crm.errors import InvalidInput, NotFound
from exhibit_crm.models import AuditLog, Lead, LeadScan
from tests import factories

NOW = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)


def _scan(session, booth, signer, registration, scan_id, *, exhibitor_id=None, now=NOW, **fields):
    code = signer.sign(registration.id, registration.badge_version) if registration is not None else "NOT-A-CODE"
    return scan_lead(session, exhibitor_id=exhibitor_id or booth["exhibitor_id"], user_id=booth["user_id"],
                     scan=BoothScan(code=code, scan_id=scan_id, **fields), verifier=signer.verifier,
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
                        scan=BoothScan(code=forged, scan_id="forged"), now=NOW)
    assert refused["reason"] == "invalid_code" and refused["visitor"] is None
    old_code = signer.sign(booth["private"].id, 1)
    badges.reprint(session, registration_id=booth["private"].id, actor=audit.SYSTEM, reason="lost")
    outdated = scan_lead(session, exhibitor_id=booth["exhibitor_id"], user_id=None, verifier=signer.verifier,
                         scan=BoothScan(code=old_code, scan_id="old"), now=NOW)
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


def test_a_lead_is_updated_only_by_its_own_exhibitor_and_audited(session, booth, signer):
    lead_id = _scan(session, booth, signer, booth["shared"], "s", rating="warm", answers={booth["budget"]: True})[
        "lead"]["id"]
    actor = audit.Actor("exhibitor_user", booth["user_id"], "sales@huamei.example.cn")
    lead = update_lead(session, exhibitor_id=booth["exhibitor_id"], lead_id=lead_id, rating="hot", notes="回访",
                       answers={booth["volume"]: "> 5 containers"}, actor=actor, now=NOW + timedelta(hours=1))
    assert (lead.rating, lead.notes, lead.updated_at) == ("hot", "回访", NOW + timedelta(hours=1))
    assert lead.answers == {booth["budget"]: True, booth["volume"]: "> 5 containers"}
    cleared = update_lead(session, exhibitor_id=booth["exhibitor_id"], lead_id=lead_id, rating="", notes="",
                          answers={}, actor=actor, now=NOW + timedelta(hours=2))
    assert (cleared.rating, cleared.notes) == (None, "")
    entries = session.scalars(select(AuditLog).where(AuditLog.action == "event_phases.on_site.lead.changed")
                              .order_by(AuditLog.id)).all()
    assert [(e.actor_id, e.object_id, e.data["rating"]) for e in entries] == [
        (booth["user_id"], lead_id, "hot"), (booth["user_id"], lead_id, None)]
    with pytest.raises(InvalidInput) as refused:
        update_lead(session, exhibitor_id=booth["exhibitor_id"], lead_id=lead_id, rating=None, notes="x" * 4001,
                    answers={}, actor=actor, now=NOW)
    assert refused.value.code == "too_long"
    with pytest.raises(NotFound):
        update_lead(session, exhibitor_id=booth["other_id"], lead_id=lead_id, rating="cold", notes="", answers={},
                    actor=actor, now=NOW)


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
