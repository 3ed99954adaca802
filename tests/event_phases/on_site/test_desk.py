"""The desk's services: walk-ins that find the person again, the person page, printing, and move-in arrivals."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from badge_scanner import issued_badges
from badge_scanner.codes import Signer
from event_phases.on_site import desk
from exhibit_crm import audit, contacts
from exhibit_crm.errors import Conflict, DomainError, NotFound
from exhibit_crm.models import (
    AuditLog,
    BadgeType,
    Company,
    Contact,
    ContactSource,
    Exhibitor,
    Registration,
    RegistrationQuestion,
)
from tests import factories

ACTOR = audit.Actor("staff", 7, "desk1")
INTERESTS = [{"value": "sofa", "label": "Sofas", "label_zh": "沙发"},
             {"value": "office", "label": "Office furniture", "label_zh": "办公家具"}]
ROLES = [{"value": "buyer", "label": "Buyer", "label_zh": "采购"}, {"value": "other", "label": "Other"}]


def with_questions(session, ed):
    """The edition asks two required questions and one optional one."""
    session.add_all([
        RegistrationQuestion(edition_id=ed.id, key="interests", label="Interests", label_zh="感兴趣的产品",
                             kind="multiple", required=True, position=1, options=INTERESTS),
        RegistrationQuestion(edition_id=ed.id, key="role", label="Purchasing role", label_zh="采购角色",
                             kind="single", required=True, position=2, options=ROLES),
        RegistrationQuestion(edition_id=ed.id, key="note", label="Note", kind="text", position=3),
    ])
    session.commit()
    return ed


@pytest.fixture
def edition(session):
    return with_questions(session, factories.edition(session))


def trade_visitor(session, ed) -> BadgeType:
    return session.scalars(select(BadgeType).where(BadgeType.edition_id == ed.id,
                                                   BadgeType.code == "trade_visitor")).one()


def form(session, ed, **values) -> desk.WalkInIn:
    data = {"full_name": "王伟", "company": "上海华美家具", "phone": "138 0013 8000",
            "badge_type_id": trade_visitor(session, ed).id, "answers": {"interests": ["sofa"], "role": "buyer"}}
    return desk.WalkInIn(**{**data, **values})


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def actions(session) -> list[str]:
    return list(session.scalars(select(AuditLog.action).order_by(AuditLog.id)))


def test_a_walk_in_creates_the_contact_and_the_registration(session, edition):
    registration = desk.walk_in(session, edition_id=edition.id, form=form(session, edition), actor=ACTOR)
    session.commit()
    contact = session.get(Contact, registration.contact_id)
    assert (contact.full_name, contact.phone, contact.email) == ("王伟", "+8613800138000", None)
    assert session.get(Company, contact.company_id).name == "上海华美家具"
    assert (registration.edition_id, registration.source, registration.status, registration.badge_version) == (
        edition.id, "walk_in", "registered", 1)
    assert registration.answers == {"interests": ["sofa"], "role": "buyer"}
    assert session.scalars(select(ContactSource.source)).all() == ["walk_in"]
    assert actions(session) == ["exhibit_crm.contact.created", "exhibit_crm.registration.created",
                                "event_phases.on_site.walk_in"]
    walked_in = session.scalars(select(AuditLog).where(AuditLog.action == "event_phases.on_site.walk_in")).one()
    assert (walked_in.actor_name, walked_in.object_id, walked_in.data) == (
        "desk1", registration.id, {"contact_created": True, "registration_created": True})


@pytest.mark.parametrize("known_by", ["email", "phone"])
def test_a_known_person_keeps_their_contact_and_registration(session, edition, known_by):
    person = contacts.ContactIn(full_name="王伟", email="wang.wei@huamei.cn", phone="13800138000")
    contact, _ = contacts.upsert_contact(session, data=person, source="online", actor=ACTOR)
    online, _ = contacts.register(session, contact_id=contact.id, edition_id=edition.id,
                                  badge_type_id=trade_visitor(session, edition).id, source="online",
                                  answers={"role": "other"}, actor=ACTOR)
    session.commit()
    same = {"email": {"email": " Wang.Wei@HUAMEI.cn", "phone": ""}, "phone": {"phone": "+86 138-0013-8000"}}[known_by]
    registration = desk.walk_in(session, edition_id=edition.id, form=form(session, edition, **same), actor=ACTOR)
    session.commit()
    assert (registration.id, registration.source, registration.answers) == (online.id, "online", {"role": "other"})
    assert (count(session, Contact), count(session, Registration)) == (1, 1)
    walked_in = session.scalars(select(AuditLog).where(AuditLog.action == "event_phases.on_site.walk_in")).one()
    assert walked_in.data == {"contact_created": False, "registration_created": False}


def test_a_missing_required_answer_is_named_and_nothing_is_stored(session, edition):
    with pytest.raises(desk.WalkInRefused) as refused:
        desk.walk_in(session, edition_id=edition.id, form=form(session, edition, answers={"role": "buyer"}),
                     actor=ACTOR)
    assert (refused.value.code, refused.value.field) == ("required", "answers.interests")
    assert (count(session, Contact), count(session, Company), count(session, Registration)) == (0, 0, 0)
    assert actions(session) == []


def test_every_mistake_is_reported_at_once_in_form_order(session, edition):
    other_edition = factories.edition(session, name="Other fair", year=2027)
    wrong_type = trade_visitor(session, other_edition).id
    bad = form(session, edition, full_name="  ", email="wang@", phone="12345", badge_type_id=wrong_type,
               answers={"interests": ["sofa", "beds"], "role": ["buyer", "other"], "colour": "red"})
    with pytest.raises(desk.WalkInRefused) as refused:
        desk.walk_in(session, edition_id=edition.id, form=bad, actor=ACTOR)
    errors = {name: exc.code for name, exc in refused.value.errors.items()}
    assert errors == {"full_name": "required", "email": "invalid_email", "phone": "invalid_phone",
                      "badge_type_id": "required", "answers.colour": "unknown_question",
                      "answers.interests": "invalid_choice", "answers.role": "invalid_choice"}
    assert list(errors)[:4] == ["full_name", "email", "phone", "badge_type_id"]
    assert refused.value.field == "full_name" and refused.value.status == 422
    assert count(session, Contact) == 0


def test_a_walk_in_needs_a_phone_or_an_email(session, edition):
    with pytest.raises(desk.WalkInRefused) as refused:
        desk.walk_in(session, edition_id=edition.id, form=form(session, edition, phone=""), actor=ACTOR)
    assert (refused.value.code, refused.value.field) == ("unreachable", "email")


def test_optional_answers_are_kept_and_choices_deduplicated(session, edition):
    answers = {"interests": ["office", "sofa", "office"], "role": "buyer", "note": " 需要发票 "}
    registration = desk.walk_in(session, edition_id=edition.id, form=form(session, edition, answers=answers),
                                actor=ACTOR)
    assert registration.answers == {"interests": ["office", "sofa"], "role": "buyer", "note": "需要发票"}


def test_a_walk_in_for_an_unknown_edition_is_not_found(session, edition):
    with pytest.raises(NotFound):
        desk.walk_in(session, edition_id=edition.id + 100, form=form(session, edition), actor=ACTOR)


@pytest.mark.parametrize(("query", "expected"), [
    ("王伟", {"full_name": "王伟"}), ("Wang.Wei@huamei.cn", {"email": "Wang.Wei@huamei.cn"}),
    ("138 0013 8000", {"phone": "138 0013 8000"}), ("+86 13800138000", {"phone": "+86 13800138000"}),
    ("  ", {}), ("Anna  Schmidt", {"full_name": "Anna Schmidt"}),
])
def test_the_search_text_prefills_the_walk_in_form(query, expected):
    assert desk.walk_in_prefill(query) == expected


def test_the_person_page_shows_status_answers_and_history(session, edition):
    registration = desk.walk_in(session, edition_id=edition.id, form=form(session, edition), actor=ACTOR)
    view = desk.registration_view(session, edition_id=edition.id, registration_id=registration.id)
    assert (view.full_name, view.company, view.phone, view.status, view.badge_version, view.source) == (
        "王伟", "上海华美家具", "+8613800138000", "registered", 1, "walk_in")
    assert (view.badge_type_name, view.edition.id) == ("Trade visitor", edition.id)
    assert [(a.key, a.label_zh, a.values) for a in view.answers] == [
        ("interests", "感兴趣的产品", [("Sofas", "沙发")]), ("role", "采购角色", [("Buyer", "采购")])]
    assert [entry.action for entry in view.history] == ["event_phases.on_site.walk_in",
                                                        "exhibit_crm.registration.created"]
    desk.mark_collected(session, edition_id=edition.id, registration_id=registration.id, actor=ACTOR)
    assert desk.registration_view(session, edition_id=edition.id, registration_id=registration.id).status == \
        "collected"
    desk.cancel(session, edition_id=edition.id, registration_id=registration.id, reason="", actor=ACTOR)
    assert desk.registration_view(session, edition_id=edition.id, registration_id=registration.id).status == \
        "cancelled"


def test_a_registration_of_another_edition_is_not_found_at_this_desk(session, edition):
    registration = desk.walk_in(session, edition_id=edition.id, form=form(session, edition), actor=ACTOR)
    other = factories.edition(session, name="Other fair", year=2027)
    for action in (desk.registration_view, desk.mark_collected):
        kwargs = {"actor": ACTOR} if action is desk.mark_collected else {}
        with pytest.raises(NotFound):
            action(session, edition_id=other.id, registration_id=registration.id, **kwargs)
    with pytest.raises(NotFound):
        desk.reprint(session, edition_id=other.id, registration_id=registration.id, reason="lost", actor=ACTOR)
    assert session.get(Registration, registration.id).badge_version == 1


def test_a_reprint_at_the_desk_makes_the_old_badge_outdated(session, edition):
    signer = Signer.generate()
    registration = desk.walk_in(session, edition_id=edition.id, form=form(session, edition), actor=ACTOR)
    old = desk.printable_badge(session, edition_id=edition.id, registration_id=registration.id, signer=signer,
                               actor=ACTOR)
    desk.reprint(session, edition_id=edition.id, registration_id=registration.id, reason="lost", actor=ACTOR)
    new = desk.printable_badge(session, edition_id=edition.id, registration_id=registration.id, signer=signer,
                               actor=ACTOR)
    assert (old.badge_version, new.badge_version, new.full_name) == (1, 2, "王伟")
    assert issued_badges.resolve(session, code=new.code, verifier=signer.verifier).id == registration.id
    with pytest.raises(DomainError) as outdated:
        issued_badges.resolve(session, code=old.code, verifier=signer.verifier)
    assert outdated.value.code == "outdated_badge"
    printed = session.scalars(select(AuditLog.data).where(AuditLog.action == "event_phases.on_site.badge.printed")
                              .order_by(AuditLog.id)).all()
    assert printed == [{"badge_version": 1}, {"badge_version": 2}]


def test_a_cancelled_registration_prints_no_badge(session, edition):
    registration = desk.walk_in(session, edition_id=edition.id, form=form(session, edition), actor=ACTOR)
    desk.cancel(session, edition_id=edition.id, registration_id=registration.id, reason="duplicate", actor=ACTOR)
    with pytest.raises(Conflict) as refused:
        desk.printable_badge(session, edition_id=edition.id, registration_id=registration.id,
                             signer=Signer.generate(), actor=ACTOR)
    assert refused.value.code == "registration_cancelled"


def test_a_walk_in_of_someone_whose_registration_was_cancelled_is_refused(session, edition):
    registration = desk.walk_in(session, edition_id=edition.id, form=form(session, edition), actor=ACTOR)
    desk.cancel(session, edition_id=edition.id, registration_id=registration.id, reason="duplicate", actor=ACTOR)
    session.commit()
    with pytest.raises(Conflict) as refused:
        desk.walk_in(session, edition_id=edition.id, form=form(session, edition), actor=ACTOR)
    assert refused.value.code == "registration_cancelled"


def exhibitors(session, ed) -> dict[str, Exhibitor]:
    made = {}
    for name, status, booth in (("宁波家居", "paid", ("N1", "N1-A01")), ("Acme Chairs", "contracted", ("E2", "12")),
                                ("Gone Ltd", "cancelled", (None, None))):
        company = Company(name=name, name_key=contacts.company_key(name))
        session.add(company)
        session.flush()
        made[name] = Exhibitor(edition_id=ed.id, company_id=company.id, status=status, booth_hall=booth[0],
                               booth_number=booth[1])
        session.add(made[name])
    session.commit()
    return made


def test_exhibitors_check_in_once_and_the_missing_ones_are_listed(session, edition):
    made = exhibitors(session, edition)
    rows = desk.exhibitor_arrivals(session, edition_id=edition.id, only_missing=False)
    assert [(r.company, r.booth, r.status, r.missing) for r in rows] == [
        ("Acme Chairs", "E2 12", "contracted", True), ("Gone Ltd", "", "cancelled", False),
        ("宁波家居", "N1-A01", "paid", True)]
    first = desk.check_in_exhibitor(session, exhibitor_id=made["宁波家居"].id, edition_id=edition.id, actor=ACTOR)
    arrived_at = first.arrived_at
    again = desk.check_in_exhibitor(session, exhibitor_id=made["宁波家居"].id, edition_id=edition.id, actor=ACTOR)
    session.commit()
    assert arrived_at is not None and again.arrived_at == arrived_at
    assert actions(session) == ["event_phases.on_site.exhibitor.arrived"]
    missing = desk.exhibitor_arrivals(session, edition_id=edition.id, only_missing=True)
    assert [r.company for r in missing] == ["Acme Chairs"]
    board = desk.arrival_board(session, edition_id=edition.id, only_missing=True)
    assert (board.total, board.missing, len(board.rows)) == (3, 1, 1)


def test_check_in_refuses_other_editions_and_cancelled_exhibitors(session, edition):
    made = exhibitors(session, edition)
    other = factories.edition(session, name="Other fair", year=2027)
    with pytest.raises(NotFound):
        desk.check_in_exhibitor(session, exhibitor_id=made["Acme Chairs"].id, edition_id=other.id, actor=ACTOR)
    with pytest.raises(Conflict) as refused:
        desk.check_in_exhibitor(session, exhibitor_id=made["Gone Ltd"].id, edition_id=edition.id, actor=ACTOR)
    assert refused.value.code == "exhibitor_cancelled"
    assert session.get(Exhibitor, made["Acme Chairs"].id).arrived_at is None

