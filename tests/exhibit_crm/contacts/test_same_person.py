"""The same-person rule gives the same contacts one person at a time (upsert_contact) and for a whole list at once
(contacts.lists): same e-mail, same phone, a phone that is another's, identity filled only where blank, sources."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from exhibit_crm import audit, contacts
from exhibit_crm.contacts import lists
from exhibit_crm.contacts.same_person import changes, match
from exhibit_crm.models import Company, Contact, ContactSource

ACTOR = audit.Actor("staff", 1, "import")
NOW = datetime(2026, 2, 1, 9, 30, tzinfo=UTC)
SIGHTINGS = [
    # matched by e-mail; the phone is the front desk's, so it stays there; the name is not taken over
    {"full_name": "王 小伟", "email": "WANG@x.cn", "phone": "13800138000", "title": "经理"},
    {"full_name": "李娜", "phone": "139 0013 9000", "city": "上海"},
    # the same person by phone: the blank e-mail is filled, the name stays, the city is the later word
    {"full_name": "Li Na", "email": "lina@x.cn", "phone": "+86 13900139000", "city": "北京"},
    {"full_name": "前台二", "phone": "+86 138 0013 8000", "email": "desk@x.cn", "company": "华美 家居"},
    {"full_name": "新人", "email": "new@x.cn", "company": "华美家居"},
]


@dataclass
class _Row:
    line: int
    contact: dict


def _known(session):
    session.add_all([Contact(full_name="王伟", email="wang@x.cn"), Contact(full_name="前台", phone="+8613800138000")])
    session.commit()


def _snapshot(session):
    companies = dict(session.execute(select(Company.id, Company.name)).all())
    people = sorted((c.full_name, c.email, c.phone, c.title, c.city, companies.get(c.company_id))
                    for c in session.scalars(select(Contact)))
    sources = sorted(session.execute(select(Contact.full_name, ContactSource.source)
                                     .join(ContactSource, ContactSource.contact_id == Contact.id)).all())
    return people, sources, sorted(companies.values())


def test_one_at_a_time_and_a_whole_list_make_the_same_contacts(session):
    _known(session)
    people = [contacts.ContactIn.model_validate(values) for values in SIGHTINGS]
    for person in people:
        contacts.upsert_contact(session, data=person, source="import:a", actor=ACTOR, now=NOW)
    one_by_one = _snapshot(session)
    session.rollback()

    rows = [_Row(line, {k: v for k, v in person.model_dump(exclude={"consent_marketing", "consent_share",
                                                                    "consent_text_version"}).items() if v})
            for line, person in enumerate(people, start=2)]
    found = lists.people(session, rows)
    assert [p.lines for p in found] == [[2], [3, 4], [5], [6]]
    lists.upsert_people(session, found, source="import:a", now=NOW)
    session.expire_all()
    assert _snapshot(session) == one_by_one
    assert one_by_one[0] == sorted([
        ("王伟", "wang@x.cn", None, "经理", "", None), ("李娜", "lina@x.cn", "+8613900139000", "", "北京", None),
        ("前台", "desk@x.cn", "+8613800138000", "", "", "华美 家居"), ("新人", "new@x.cn", None, "", "", "华美 家居")])
    assert [source for _name, source in one_by_one[1]] == ["import:a"] * 4


def test_a_known_source_is_kept_and_not_repeated(session):
    _known(session)
    person = contacts.ContactIn(full_name="王伟", email="wang@x.cn")
    contacts.upsert_contact(session, data=person, source="online", actor=ACTOR, now=NOW)
    for _ in range(2):
        found = lists.people(session, [_Row(2, {"full_name": "王伟", "email": "wang@x.cn"})])
        lists.upsert_people(session, found, source="import:b", now=NOW)
    assert sorted(session.scalars(select(ContactSource.source))) == ["import:b", "online"]


def test_the_rule_itself():
    assert match("a", "b") == ("a", True) and match("a", "a") == ("a", False) and match(None, "b") == ("b", False)
    assert match(None, None) == (None, False)
    assert changes({"full_name": "王伟", "email": None, "city": "上海"},
                   {"full_name": "Wang", "email": "w@x.cn", "city": "北京", "title": ""}) == {
        "email": "w@x.cn", "city": "北京"}
