"""Many new people at once (a group of online registrations): the contacts and registrations upsert_contact and
register would make."""

from datetime import UTC, datetime

from sqlalchemy import select

from exhibit_crm import audit, contacts
from exhibit_crm.models import BadgeType, Contact, ContactSource, Registration
from tests import factories

ACTOR = audit.Actor("staff", 1, "desk")
NOW = datetime(2026, 2, 1, 9, 30, tzinfo=UTC)


def _person(**values):
    return contacts.ContactIn.model_validate({"full_name": "王伟", "company": "广州华美家居有限公司", **values})


def _columns(contact: Contact) -> dict:
    return contact.model_dump(exclude={"id", "email", "phone", "created_at", "updated_at", "consent_share_at"})


def test_new_people_stored_together_are_the_contacts_upsert_would_make(session):
    known, _ = contacts.upsert_contact(session, data=_person(email="known@x.cn"), source="online", actor=ACTOR,
                                       now=NOW)
    people = [_person(email="Li.Na@X.cn", phone="13900139000", consent_share=True, consent_text_version="2026-1"),
              _person(full_name="赵六", email="zhao@x.cn", company="", city="上海")]
    assert contacts.known_people(session, [*people, _person(email="known@x.cn")]) == {"known@x.cn"}
    now = NOW
    ids = contacts.create_contacts(session, people, source="online", actor=ACTOR, now=now)
    one_by_one = [contacts.upsert_contact(session, data=person.model_copy(update={
        "email": f"copy.{person.email}", "phone": None}), source="online", actor=ACTOR, now=now)[0]
        for person in people]
    session.commit()
    together = [session.get(Contact, contact_id) for contact_id in ids]
    assert [_columns(contact) for contact in together] == [_columns(contact) for contact in one_by_one]
    assert together[0].consent_share_at == now and together[0].phone == "+8613900139000"
    assert together[0].company_id == known.company_id and together[1].company_id is None
    sources = session.scalars(select(ContactSource.contact_id).where(ContactSource.contact_id.in_(ids))).all()
    assert sorted(sources) == sorted(ids)


def test_registrations_of_new_contacts_are_made_together(session):
    ed = factories.edition(session)
    badge_type = session.scalars(select(BadgeType).where(BadgeType.edition_id == ed.id)).first()
    ids = contacts.create_contacts(session, [_person(email="a@x.cn"), _person(email="b@x.cn")], source="online",
                                   actor=ACTOR, now=NOW)
    made = contacts.register_new(session, [(ids[0], badge_type, {"q": "a"}), (ids[1], badge_type, {})],
                                 edition_id=ed.id, source="online", actor=ACTOR)
    session.commit()
    rows = [session.get(Registration, registration_id) for registration_id in made]
    assert [(r.contact_id, r.edition_id, r.status, r.badge_version, r.answers) for r in rows] == [
        (ids[0], ed.id, "registered", 1, {"q": "a"}), (ids[1], ed.id, "registered", 1, {})]
    again, created = contacts.register(session, contact_id=ids[0], edition_id=ed.id, badge_type_id=badge_type.id,
                                       source="walk_in", actor=ACTOR)
    assert (again.id, created) == (made[0], False)
