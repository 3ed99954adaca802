"""Visitor lists: the people of a list go through the core's same-person rule for lists (exhibit_crm.contacts.lists:
rows of one person merged, matched to known contacts, written set-based), and each is registered for the edition.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from exhibit_crm.bulk_sql import BulkSql, chunks
from exhibit_crm.contacts.lists import Person
from exhibit_crm.models import Registration, RegistrationInterest

from ..matchmaking import interests_from_answers

NO_ANSWERS: dict = {}  # one object for every registration without answers: serialised once (never changed)


def _answers_and_badge_type(person: Person) -> tuple[dict, int | None]:
    """A person's answers over their rows (a later row's answer wins) and the first badge type a row names."""
    if len(person.rows) == 1:
        return person.rows[0].answers, person.rows[0].badge_type_id
    answers: dict = {}
    for row in person.rows:
        answers.update(row.answers)
    return answers, next((row.badge_type_id for row in person.rows if row.badge_type_id), None)


def register_all(session: Session, found: list[Person], *, edition_id: int, badge_type_id: int, questions: list,
                 now: datetime) -> list[int]:
    """Register every person not yet registered in the edition (source "import"); returns their contact ids."""
    registered: set[int] = set()
    for part in chunks(list({p.contact_id for p in found if not p.created})):
        registered.update(session.scalars(select(Registration.contact_id).where(
            Registration.edition_id == edition_id, Registration.contact_id.in_(part))))
    rows, interests = [], []
    for person in found:
        if person.contact_id in registered:
            continue
        registered.add(person.contact_id)
        answers, chosen_type = _answers_and_badge_type(person)
        rows.append({"contact_id": person.contact_id, "edition_id": edition_id, "source": "import",
                     "answers": answers or NO_ANSWERS, "badge_type_id": chosen_type or badge_type_id,
                     "exhibitor_id": None, "status": "registered", "badge_version": 1, "registered_at": now,
                     "cancelled_at": None, "collected_at": None})
        interests.append(sorted(interests_from_answers(questions, answers)) if answers else [])
    if not rows:
        return []
    bulk = BulkSql(session.connection())
    bulk.insert_dicts(Registration.__table__, rows)
    wanted_by_contact = {row["contact_id"]: codes for row, codes in zip(rows, interests, strict=True) if codes}
    if wanted_by_contact:
        new_ids = {}
        for part in chunks(list(wanted_by_contact)):
            new_ids.update(session.execute(select(Registration.contact_id, Registration.id).where(
                Registration.edition_id == edition_id, Registration.contact_id.in_(part))).all())
        bulk.insert_dicts(RegistrationInterest.__table__,
                         [{"registration_id": new_ids[cid], "edition_id": edition_id, "category": code}
                          for cid, codes in wanted_by_contact.items() for code in codes])
    return [row["contact_id"] for row in rows]
