import itertools

import pytest
from sqlmodel import Session, select

from badge_scanner import issued_badges
from badge_scanner.code_format import InvalidCode
from badge_scanner.codes import Signer
from exhibit_crm import audit
from exhibit_crm.errors import DomainError, NotFound
from exhibit_crm.models import AuditLog, BadgeType, Company, Contact, Registration
from tests import factories

DESK = audit.Actor("staff", 7, "desk1")
_people = itertools.count(1)


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer.generate()


@pytest.fixture
def ed(session):
    return factories.edition(session)


def _badge_type(session, ed, code="trade_visitor") -> BadgeType:
    return session.exec(select(BadgeType).where(BadgeType.edition_id == ed.id, BadgeType.code == code)).one()


def _register(session, ed, full_name, *, company=None, badge_type="trade_visitor", email=None) -> Registration:
    firm = None
    if company:
        firm = session.exec(select(Company).where(Company.name == company)).first()
        if firm is None:
            firm = Company(name=company, name_key=company.lower().replace(" ", ""))
            session.add(firm)
            session.flush()
    contact = Contact(full_name=full_name, email=email or f"person{next(_people)}@example.cn",
                      company_id=firm.id if firm else None)
    session.add(contact)
    session.flush()
    registration = Registration(contact_id=contact.id, edition_id=ed.id, badge_type_id=_badge_type(session, ed,
                                badge_type).id)
    session.add(registration)
    session.commit()
    return registration


def _audit(session, action):
    return list(session.exec(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))


def test_badge_data_has_everything_a_badge_shows(session, ed, signer):
    visitor_type = _badge_type(session, ed)
    visitor_type.name_zh, visitor_type.color = "专业观众", "#d62728"
    session.add(visitor_type)
    registration = _register(session, ed, "王伟", company="广州华美家居有限公司")
    badge = issued_badges.badge_data(session, registration_id=registration.id, signer=signer)
    assert badge == issued_badges.BadgeData(
        registration_id=registration.id, badge_version=1, code=badge.code, full_name="王伟",
        company="广州华美家居有限公司", badge_type_code="trade_visitor", badge_type_name="Trade visitor",
        badge_type_name_zh="专业观众", color="#d62728", edition_name="Furniture Fair 2026", layout="A6",
        status="registered")
    assert signer.verifier.verify(badge.code).registration_id == registration.id


def test_badge_data_without_a_company_and_for_a_missing_registration(session, ed, signer):
    registration = _register(session, ed, "Anna Schmidt")
    assert issued_badges.badge_data(session, registration_id=registration.id, signer=signer).company == ""
    with pytest.raises(NotFound):
        issued_badges.badge_data(session, registration_id=registration.id + 1000, signer=signer)


def test_badges_for_orders_by_company_then_name_then_id_and_skips_cancelled(session, ed, signer):
    made = [
        _register(session, ed, "Zhang Min", company="beta furniture"),
        _register(session, ed, "李娜", company="Alpha Home"),
        _register(session, ed, "Anna Schmidt"),
        _register(session, ed, "Li Na", company="Alpha Home"),
        _register(session, ed, "Li Na", company="Alpha Home", email="second.li.na@example.cn"),
        _register(session, ed, "Cancelled Person", company="Alpha Home", badge_type="public_visitor"),
        _register(session, ed, "Chen Jing", company="beta furniture", badge_type="exhibitor_staff"),
    ]
    issued_badges.cancel(session, registration_id=made[5].id, actor=DESK)
    session.commit()
    other_edition = factories.edition(session, name="Furniture Fair 2027", year=2027)
    _register(session, other_edition, "Other Show")

    listed = issued_badges.badges_for(session, edition_id=ed.id, signer=signer)
    assert [b.registration_id for b in listed] == [made[i].id for i in (2, 3, 4, 1, 6, 0)]
    assert listed == issued_badges.badges_for(session, edition_id=ed.id, signer=signer)  # stable

    staff = _badge_type(session, ed, "exhibitor_staff")
    assert [b.full_name for b in issued_badges.badges_for(session, edition_id=ed.id, signer=signer,
                                                   badge_type_id=staff.id)] == ["Chen Jing"]
    chosen = issued_badges.badges_for(session, edition_id=ed.id, signer=signer,
                               registration_ids=[made[0].id, made[5].id, made[2].id, made[2].id, 10**6])
    assert [b.registration_id for b in chosen] == [made[2].id, made[0].id]
    assert issued_badges.badges_for(session, edition_id=ed.id, signer=signer, registration_ids=[]) == []


def test_reprint_bumps_the_version_so_the_old_badge_stops_working(session, ed, signer):
    registration = _register(session, ed, "王伟")
    old_code = issued_badges.badge_data(session, registration_id=registration.id, signer=signer).code
    assert issued_badges.resolve(session, code=old_code, verifier=signer.verifier).id == registration.id

    reprinted = issued_badges.reprint(session, registration_id=registration.id, actor=DESK, reason="lost badge")
    session.commit()
    assert reprinted.badge_version == 2
    new_code = issued_badges.badge_data(session, registration_id=registration.id, signer=signer).code
    assert new_code != old_code
    assert issued_badges.resolve(session, code=new_code.lower() + "\n", verifier=signer.verifier).id == registration.id
    with pytest.raises(DomainError) as outdated:
        issued_badges.resolve(session, code=old_code, verifier=signer.verifier)
    assert outdated.value.code == "outdated_badge"

    [entry] = _audit(session, "badge_scanner.badge.reprinted")
    assert (entry.actor_type, entry.actor_id, entry.actor_name) == ("staff", 7, "desk1")
    assert (entry.object_type, entry.object_id) == ("registration", registration.id)
    assert entry.data == {"reason": "lost badge", "old_version": 1, "new_version": 2}


def test_reprint_needs_a_reason_and_an_active_registration(session, ed):
    registration = _register(session, ed, "王伟")
    for reason in ("", "   "):
        with pytest.raises(DomainError) as missing:
            issued_badges.reprint(session, registration_id=registration.id, actor=DESK, reason=reason)
        assert missing.value.field == "reason"
    with pytest.raises(NotFound):
        issued_badges.reprint(session, registration_id=registration.id + 1000, actor=DESK, reason="lost")
    issued_badges.cancel(session, registration_id=registration.id, actor=DESK)
    with pytest.raises(DomainError) as cancelled:
        issued_badges.reprint(session, registration_id=registration.id, actor=DESK, reason="lost")
    assert cancelled.value.code == "registration_cancelled"


def test_reprints_from_two_desks_get_consecutive_versions(engine, session, ed):
    registration = _register(session, ed, "王伟")
    with Session(engine, expire_on_commit=False) as other_desk:
        stale = other_desk.get(Registration, registration.id)
        other_desk.commit()
        issued_badges.reprint(session, registration_id=registration.id, actor=DESK, reason="misprint")
        session.commit()
        assert stale.badge_version == 1  # this desk has not seen the first reprint
        assert issued_badges.reprint(other_desk, registration_id=registration.id, actor=DESK,
                              reason="lost").badge_version == 3
        other_desk.commit()
    versions = [(e.data["old_version"], e.data["new_version"]) for e in _audit(session,
                                                                               "badge_scanner.badge.reprinted")]
    assert versions == [(1, 2), (2, 3)]


def test_cancel_revokes_the_badge_and_is_idempotent(session, ed, signer):
    registration = _register(session, ed, "Anna Schmidt")
    code = issued_badges.badge_data(session, registration_id=registration.id, signer=signer).code
    cancelled = issued_badges.cancel(session, registration_id=registration.id, actor=DESK, reason="asked by phone")
    session.commit()
    assert (cancelled.status, cancelled.badge_version) == ("cancelled", 2)
    first_cancelled_at = cancelled.cancelled_at
    assert first_cancelled_at is not None

    again = issued_badges.cancel(session, registration_id=registration.id, actor=DESK, reason="again")
    session.commit()
    assert (again.status, again.badge_version, again.cancelled_at) == ("cancelled", 2, first_cancelled_at)
    [entry] = _audit(session, "badge_scanner.registration.cancelled")
    assert entry.data == {"reason": "asked by phone", "old_version": 1, "new_version": 2}

    current = issued_badges.badge_data(session, registration_id=registration.id, signer=signer)
    assert current.status == "cancelled"
    for stale_or_current in (code, current.code):
        with pytest.raises(DomainError) as revoked:
            issued_badges.resolve(session, code=stale_or_current, verifier=signer.verifier)
        assert revoked.value.code == "revoked"


def test_mark_collected_records_the_first_pick_up_only(session, ed):
    registration = _register(session, ed, "李娜")
    collected = issued_badges.mark_collected(session, registration_id=registration.id, actor=DESK)
    session.commit()
    first = collected.collected_at
    assert first is not None
    assert issued_badges.mark_collected(session, registration_id=registration.id, actor=DESK).collected_at == first
    session.commit()
    [entry] = _audit(session, "badge_scanner.badge.collected")
    assert entry.data == {"badge_version": 1}

    other = _register(session, ed, "Li Na")
    issued_badges.cancel(session, registration_id=other.id, actor=DESK)
    with pytest.raises(DomainError) as refused:
        issued_badges.mark_collected(session, registration_id=other.id, actor=DESK)
    assert refused.value.code == "registration_cancelled"


def test_resolve_rejects_forged_garbled_and_unknown_codes(session, ed, signer):
    registration = _register(session, ed, "王伟")
    with pytest.raises(InvalidCode) as forged:
        issued_badges.resolve(session, code=Signer.generate().sign(registration.id, 1), verifier=signer.verifier)
    assert forged.value.reason == "bad_signature"
    with pytest.raises(InvalidCode) as garbled:
        issued_badges.resolve(session, code="王伟", verifier=signer.verifier)
    assert garbled.value.reason == "malformed"
    with pytest.raises(NotFound):
        issued_badges.resolve(session, code=signer.sign(registration.id + 1000, 1), verifier=signer.verifier)


def test_reinstate_gives_a_cancelled_registration_a_new_badge_and_keeps_the_old_ones_refused(session, ed, signer):
    registration = _register(session, ed, "Anna Schmidt")
    printed = issued_badges.badge_data(session, registration_id=registration.id, signer=signer).code
    issued_badges.cancel(session, registration_id=registration.id, actor=DESK)
    unchanged = _register(session, ed, "李娜")
    assert issued_badges.reinstate(session, registration_id=unchanged.id, actor=DESK).badge_version == 1
    back = issued_badges.reinstate(session, registration_id=registration.id, actor=DESK, reason="came after all")
    session.commit()
    assert (back.status, back.badge_version, back.cancelled_at) == ("registered", 3, None)
    again = issued_badges.reinstate(session, registration_id=registration.id, actor=DESK)
    assert again.badge_version == 3
    [entry] = _audit(session, "badge_scanner.registration.reinstated")
    assert entry.data == {"reason": "came after all", "old_version": 2, "new_version": 3}
    new = issued_badges.badge_data(session, registration_id=registration.id, signer=signer)
    assert (new.status, new.badge_version) == ("registered", 3)
    assert issued_badges.resolve(session, code=new.code, verifier=signer.verifier).id == registration.id
    with pytest.raises(DomainError) as refused:
        issued_badges.resolve(session, code=printed, verifier=signer.verifier)
    assert refused.value.code == "outdated_badge"
