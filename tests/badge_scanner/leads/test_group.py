"""A group of booth scans is answered and recorded as the same scans one by one; a group that meets a concurrent insert
is judged again scan by scan."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from badge_scanner.leads import BoothScan, record_lead_scans, scan_lead, scan_leads
from badge_scanner.leads.group import GroupScan
from exhibit_crm.errors import InvalidInput
from exhibit_crm.models import Lead, LeadScan

from .test_scanning import NOW, _scan


def _group(booth, signer):
    def code(registration):
        return signer.sign(registration.id, registration.badge_version)
    me, other = booth["exhibitor_id"], booth["other_id"]
    return [
        (me, booth["user_id"], BoothScan(code=code(booth["shared"]), scan_id="g1", rating="hot",
                                               answers={booth["budget"]: True})),
        (me, booth["user_id"], BoothScan(code=code(booth["private"]), scan_id="g2", notes="要报价")),
        (me, booth["user_id"], BoothScan(code=code(booth["shared"]), scan_id="g3", rating="cold",
                                               answers={booth["volume"]: "> 5 containers"})),
        (me, booth["user_id"], BoothScan(code=code(booth["shared"]), scan_id="g1", rating="warm")),
        (me, booth["user_id"], BoothScan(code=code(booth["shared"]), scan_id="g4", rating="lukewarm")),
        (me, booth["user_id"], BoothScan(code=code(booth["shared"]), scan_id="g5",
                                               answers={booth["foreign"]: True})),
        (me, booth["user_id"], BoothScan(code="Z" * 116, scan_id="g6")),
        (other, None, BoothScan(code=code(booth["shared"]), scan_id="g1")),
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
    for exhibitor_id, user_id, scan in items:
        try:
            one_by_one.append(scan_lead(session, exhibitor_id=exhibitor_id, user_id=user_id, scan=scan,
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
    monkeypatch.setattr(GroupScan, "run", conflict)
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
    monkeypatch.setattr(GroupScan, "_read_leads", lambda self, rows: None)
    results = _record_group(entry, session, _group(booth, signer), signer.verifier)
    assert [r["verdict"] if isinstance(r, dict) else "refused" for r in results] == [
        "accepted", "accepted", "accepted", "accepted", "refused", "refused", "rejected", "accepted"]
    assert results[3]["lead"]["rating"] == "cold" and results[0]["lead"]["answers"] == {booth["budget"]: True}
    assert len(session.exec(select(Lead).where(Lead.exhibitor_id == booth["exhibitor_id"])).all()) == 2
    assert len(session.exec(select(LeadScan)).all()) == 6  # "before" and the five new scan_ids of the group
