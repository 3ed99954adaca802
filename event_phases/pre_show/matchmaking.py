"""Matchmaking: visitors' interests against exhibitors' product categories, ranked both ways.

A registration question's option may name a product category of the edition (`{"value": "sofa_buyer", "label": …,
"category": "sofas"}`); a visitor who picks it is interested in that category. The interests are kept as rows
(registration_interest), so that an exhibitor's list of interested visitors is one indexed join.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, func, insert
from sqlmodel import Session, select

from exhibit_crm.exhibitors import booth_label
from exhibit_crm.models import (
    BadgeType,
    Company,
    Contact,
    Exhibitor,
    ProductCategory,
    Registration,
    RegistrationInterest,
    RegistrationQuestion,
    holds_visitor_badge,
)

# exhibitors a visitor is sent to: booked ones only
BOOKED = ("contracted", "paid")


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    name_zh: str


@dataclass(frozen=True)
class Recommendation:
    """An exhibitor for a visitor to see, with the categories that made the match."""
    exhibitor_id: int
    company: str
    booth: str
    categories: tuple[Category, ...]

    @property
    def score(self) -> int:
        return len(self.categories)


@dataclass(frozen=True)
class InterestedVisitor:
    """A pre-registered visitor interested in what an exhibitor sells; name and title only with consent to share."""
    registration_id: int
    name: str | None
    title: str | None
    company: str
    badge_type: str
    categories: tuple[Category, ...]  # the more, the better the match: the list comes best first


def interests_from_answers(questions: Iterable[RegistrationQuestion], answers: dict) -> set[str]:
    """The category codes named by the options a visitor picked."""
    found: set[str] = set()
    for question in questions:
        if question.kind == "text":
            continue
        given = answers.get(question.key)
        picked = set(given if isinstance(given, list) else [given] if given else [])
        for option in question.options:
            if option.get("value") in picked and option.get("category"):
                found.add(str(option["category"]))
    return found


def record_interests(session: Session, *, registration: Registration,
                     questions: Iterable[RegistrationQuestion] | None = None, replace: bool = True) -> set[str]:
    """Replace a registration's interests with those its answers name; returns them. `questions`: the edition's,
    when the caller has them already; `replace=False` for a registration that has none yet."""
    if questions is None:
        questions = session.scalars(select(RegistrationQuestion)
                                    .where(RegistrationQuestion.edition_id == registration.edition_id)).all()
    codes = interests_from_answers(questions, registration.answers or {})
    if replace:
        session.execute(delete(RegistrationInterest).where(RegistrationInterest.registration_id == registration.id))
    if codes:
        session.execute(insert(RegistrationInterest.__table__), [
            {"registration_id": registration.id, "edition_id": registration.edition_id, "category": code}
            for code in sorted(codes)])
    return codes


def record_new_interests(session: Session, *, edition_id: int, answers: dict[int, dict],
                         questions: Iterable[RegistrationQuestion]) -> dict[int, set[str]]:
    """The interests of an edition's registrations made in this transaction (so they have none yet), from their
    answers (registration id -> answers), in one statement; registration id -> category codes."""
    questions = list(questions)
    found = {registration_id: interests_from_answers(questions, given or {})
             for registration_id, given in answers.items()}
    rows = [{"registration_id": registration_id, "edition_id": edition_id, "category": code}
            for registration_id, codes in found.items() for code in sorted(codes)]
    if rows:
        _connection(session).execute(insert(RegistrationInterest.__table__), rows)
    return found


_CATEGORY, _EXHIBITOR, _COMPANY = ProductCategory.__table__, Exhibitor.__table__, Company.__table__
# Core statements, run on the session's connection: read for every group of registrations, they need no ORM objects
_CATEGORIES = select(_CATEGORY.c.code, _CATEGORY.c.name, _CATEGORY.c.name_zh).where(
    _CATEGORY.c.edition_id == bindparam("edition_id"))
_BOOKED = (select(_EXHIBITOR.c.id, _COMPANY.c.name, _EXHIBITOR.c.booth_hall, _EXHIBITOR.c.booth_number,
                  _EXHIBITOR.c.product_categories).join(_COMPANY, _COMPANY.c.id == _EXHIBITOR.c.company_id)
           .where(_EXHIBITOR.c.edition_id == bindparam("edition_id"), _EXHIBITOR.c.status.in_(BOOKED)))


def _connection(session: Session):
    session.flush()  # what session.execute would do before reading
    return session.connection()


def _categories(session: Session, edition_id: int) -> dict[str, Category]:
    rows = _connection(session).execute(_CATEGORIES, {"edition_id": edition_id})
    return {row.code: Category(row.code, row.name, row.name_zh) for row in rows}


@dataclass(frozen=True)
class Catalogue:
    """What an edition's booked exhibitors sell, read once to recommend exhibitors to many visitors."""
    categories: dict[str, Category]
    exhibitors: tuple[tuple[int, str, str, frozenset[str]], ...]  # id, company, booth, categories

    def recommend(self, wanted: set[str], limit: int = 10) -> list[Recommendation]:
        """Booked exhibitors ranked by how many of these interests they sell, then by name."""
        found = []
        for exhibitor_id, company, booth, sells in self.exhibitors:
            matched = sorted(wanted & sells)
            if matched:
                found.append(Recommendation(exhibitor_id, company, booth, tuple(
                    self.categories.get(code, Category(code, code, "")) for code in matched)))
        found.sort(key=lambda r: (-r.score, r.company.casefold(), r.exhibitor_id))
        return found[:limit]


def catalogue(session: Session, *, edition_id: int) -> Catalogue:
    rows = _connection(session).execute(_BOOKED, {"edition_id": edition_id}).all()
    return Catalogue(_categories(session, edition_id), tuple(
        (row.id, row.name, booth_label(row), frozenset(row.product_categories or ())) for row in rows))


def exhibitors_for(session: Session, *, registration_id: int, limit: int = 10,
                   interests: set[str] | None = None, known: Catalogue | None = None) -> list[Recommendation]:
    """Booked exhibitors ranked by how many of the visitor's interests they sell, then by name. `interests` and
    `known` (the edition's catalogue): when the caller has them already."""
    registration = session.get(Registration, registration_id)
    if registration is None:
        return []
    wanted = interests if interests is not None else set(session.scalars(
        select(RegistrationInterest.category).where(RegistrationInterest.registration_id == registration_id)).all())
    if not wanted:
        return []
    return (known or catalogue(session, edition_id=registration.edition_id)).recommend(wanted, limit)


def visitors_for(session: Session, *, exhibitor_id: int, limit: int = 50, offset: int = 0) -> list[InterestedVisitor]:
    """Active registrations of visitors (a badge for visitors) of the exhibitor's edition interested in its
    categories, best match first."""
    exhibitor = session.get(Exhibitor, exhibitor_id)
    if exhibitor is None or not exhibitor.product_categories:
        return []
    sells = list(exhibitor.product_categories)
    score = func.count(RegistrationInterest.id).label("score")
    ranked = (select(RegistrationInterest.registration_id, score)
              .where(RegistrationInterest.edition_id == exhibitor.edition_id,
                     RegistrationInterest.category.in_(sells))
              .group_by(RegistrationInterest.registration_id).subquery())
    rows = session.execute(
        select(Registration.id, Contact.full_name, Contact.title, Contact.consent_share, Company.name, BadgeType.code)
        .join(ranked, ranked.c.registration_id == Registration.id)
        .join(Contact, Contact.id == Registration.contact_id)
        .join(BadgeType, BadgeType.id == Registration.badge_type_id)
        .outerjoin(Company, Company.id == Contact.company_id)
        .where(Registration.status == "registered", holds_visitor_badge(Registration.badge_type_id))
        .order_by(ranked.c.score.desc(), Registration.id)
        .limit(limit).offset(offset)).all()
    if not rows:
        return []
    ids = [row[0] for row in rows]
    matched: dict[int, list[str]] = {}
    for registration_id, code in session.execute(
            select(RegistrationInterest.registration_id, RegistrationInterest.category)
            .where(RegistrationInterest.registration_id.in_(ids), RegistrationInterest.category.in_(sells))
            .order_by(RegistrationInterest.category)):
        matched.setdefault(registration_id, []).append(code)
    categories = _categories(session, exhibitor.edition_id)
    return [InterestedVisitor(rid, name if share else None, title if share else None, company or "", badge_type,
                              tuple(categories.get(code, Category(code, code, "")) for code in matched.get(rid, [])))
            for rid, name, title, share, company, badge_type in rows]
