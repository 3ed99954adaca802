"""Registering visitors from the public form, one at a time or a group in one transaction: the badge type the
answers give, the contact (the core's same-person rule), the registration and the confirmation mail."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import Row, bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from badge_scanner import issued_badges as badges
from badge_scanner.codes import Signer
from exhibit_crm import audit, contacts, outbox
from exhibit_crm.errors import Conflict, DomainError, NotFound
from exhibit_crm.models import (
    BadgeType,
    Edition,
    OutboxMessage,
    Registration,
    RegistrationQuestion,
    utcnow,
)

from .. import matchmaking
from .confirmation import CONFIRMED, ConfirmationMails, EBadge, Links, send_confirmation
from .form import SOURCE, VISITOR, RegistrationIn, checked

FALLBACK_BADGE_TYPE = "trade_visitor"
RESEND_AFTER = timedelta(minutes=10)
# the badge version of a new registration (the column's default)
FIRST_BADGE_VERSION = 1


@dataclass(frozen=True)
class Registered:
    registration_id: int
    created: bool  # False: the person was registered already
    mailed: bool  # a confirmation mail was queued now



# The badge type rule.

def _badge_types(session: Session, edition_id: int) -> dict[str, BadgeType]:
    return {row.code: row for row in session.scalars(select(BadgeType).where(BadgeType.edition_id == edition_id))}


def badge_type_for(session: Session, *, edition: Edition, questions: list[RegistrationQuestion],
                   answers: dict, types: dict[str, BadgeType] | None = None) -> BadgeType:
    """The badge type the answers give (see the module's docstring for the rule); `types`: the edition's by code,
    when the caller has them already."""
    types = _badge_types(session, edition.id) if types is None else types
    for question in questions:
        picked = answers.get(question.key)
        picked = set(picked if isinstance(picked, list) else [picked]) if question.kind != "text" and picked else set()
        for option in question.options:
            if option.get("value") in picked and option.get("badge_type") in types:
                return types[option["badge_type"]]
    for code in (edition.visitor_badge_type, FALLBACK_BADGE_TYPE):
        if code and code in types:
            return types[code]
    raise Conflict("no_visitor_badge_type", "the edition has no badge type for visitors; the organiser must set one")


# Registering.

@dataclass(frozen=True)
class _Show:
    """What every registration for an edition reads, read once per transaction as plain rows (the columns of
    Edition, RegistrationQuestion and BadgeType that registering uses, under the same names)."""
    edition: Row
    questions: list[Row]
    types: dict[str, Row]
    catalogue: matchmaking.Catalogue


_EDITION, _QUESTION, _BADGE_TYPE = Edition.__table__, RegistrationQuestion.__table__, BadgeType.__table__
# Core statements on the session's connection: read once per group, they need none of the ORM's objects
_SHOW_EDITION = select(_EDITION.c.id, _EDITION.c.registration_open, _EDITION.c.visitor_badge_type, _EDITION.c.name,
                       _EDITION.c.badge_layout).where(_EDITION.c.id == bindparam("edition_id"))
_SHOW_QUESTIONS = (select(_QUESTION.c.key, _QUESTION.c.kind, _QUESTION.c.required, _QUESTION.c.options)
                   .where(_QUESTION.c.edition_id == bindparam("edition_id"))
                   .order_by(_QUESTION.c.position, _QUESTION.c.id))
_SHOW_TYPES = select(_BADGE_TYPE.c.id, _BADGE_TYPE.c.edition_id, _BADGE_TYPE.c.code, _BADGE_TYPE.c.name,
                     _BADGE_TYPE.c.name_zh, _BADGE_TYPE.c.color).where(
    _BADGE_TYPE.c.edition_id == bindparam("edition_id"))


def _show(session: Session, edition_id: int) -> _Show:
    session.flush()  # what session.execute would do before reading
    connection, key = session.connection(), {"edition_id": edition_id}
    edition = connection.execute(_SHOW_EDITION, key).first()
    if edition is None:
        raise NotFound("edition", edition_id)
    if not edition.registration_open:
        raise Conflict("registration_closed", "registration for this edition is closed")
    return _Show(edition, list(connection.execute(_SHOW_QUESTIONS, key)),
                 {row.code: row for row in connection.execute(_SHOW_TYPES, key)},
                 matchmaking.catalogue(session, edition_id=edition_id))


def register_visitor(session: Session, *, edition_id: int, form: RegistrationIn, signer: Signer, links: Links,
                     now: datetime | None = None) -> Registered:
    """Register a visitor from the public form and queue the confirmation mail with their e-badge."""
    return _register(session, _show(session, edition_id), form=form, signer=signer, links=links, now=now or utcnow())


def register_visitors(session: Session, *, items: list[tuple[int, RegistrationIn]], signer: Signer, links: Links,
                      now: datetime | None = None) -> list[Registered | DomainError]:
    """Several registrations (edition id, form) in one transaction; a refused one leaves nothing behind and does
    not stop the others. Returns each one's outcome or refusal, in order.

    People no contact knows yet, each named once in the group (the usual case), are stored together, one statement
    per table; the others (known people, one person twice) one by one as register_visitor does, each in its own
    savepoint."""
    now, shows = now or utcnow(), {}
    outcomes: list[Registered | DomainError | None] = [None] * len(items)
    ready: list[_Checked] = []
    for index, (edition_id, form) in enumerate(items):
        try:
            show = shows[edition_id] = shows.get(edition_id) or _show(session, edition_id)
            person, answers = checked(show.questions, form)
            badge_type = badge_type_for(session, edition=show.edition, questions=show.questions, answers=answers,
                                        types=show.types)
        except DomainError as exc:
            outcomes[index] = exc
            continue
        ready.append(_Checked(index, show, person, answers, badge_type))
    fresh, one_by_one = _new_people(session, ready)
    for group in fresh.values():
        try:
            with session.begin_nested():
                for index, registered in _register_new(session, group, signer=signer, links=links, now=now):
                    outcomes[index] = registered
        except (IntegrityError, DomainError):
            # another process stored one of these people meanwhile, or one of them is refused: one by one then
            one_by_one.extend(group)
    for item in sorted(one_by_one):
        try:
            with session.begin_nested():
                outcomes[item.index] = _register(session, item.show, form=items[item.index][1], signer=signer,
                                                 links=links, now=now)
        except DomainError as exc:
            outcomes[item.index] = exc
    return outcomes


class _Checked(NamedTuple):
    index: int
    show: _Show
    person: contacts.ContactIn
    answers: dict
    badge_type: BadgeType


def _new_people(session: Session, ready: list[_Checked]) -> tuple[dict[int, list[_Checked]], list[_Checked]]:
    """The checked registrations of people nobody knows, by edition, and the rest."""
    known = contacts.known_people(session, [item.person for item in ready])
    seen = Counter(value for item in ready for value in (item.person.email, item.person.phone) if value)
    fresh: dict[int, list[_Checked]] = {}
    rest = []
    for item in ready:
        values = [value for value in (item.person.email, item.person.phone) if value]
        if any(value in known or seen[value] > 1 for value in values):
            rest.append(item)
        else:
            fresh.setdefault(item.show.edition.id, []).append(item)
    return fresh, rest


def _register_new(session: Session, group: list[_Checked], *, signer: Signer, links: Links,
                  now: datetime) -> list[tuple[int, Registered]]:
    """Register people no contact knows yet for one edition, together, with their confirmation mails."""
    show = group[0].show
    edition = show.edition
    made = contacts.create_contacts_with_companies(session, [item.person for item in group], source=SOURCE,
                                                   actor=VISITOR, now=now)
    ids = contacts.register_new(
        session, [(new.id, item.badge_type, item.answers) for new, item in zip(made, group, strict=True)],
        edition_id=edition.id, source=SOURCE, actor=VISITOR)
    interests = matchmaking.record_new_interests(session, edition_id=edition.id, questions=show.questions, answers={
        registration_id: item.answers for registration_id, item in zip(ids, group, strict=True)})
    recommended: dict[frozenset[str], tuple[matchmaking.Recommendation, ...]] = {}
    mails = ConfirmationMails()
    for new, registration_id, item in zip(made, ids, group, strict=True):
        wanted = frozenset(interests[registration_id])
        if wanted not in recommended:
            recommended[wanted] = tuple(show.catalogue.recommend(set(wanted)))
        view = EBadge(_new_badge(edition, item, registration_id, new.company, signer), new.id, item.person.email,
                      edition.id, links.ebadge_url(registration_id), recommended[wanted], item.person.language)
        mails.add(view)
    outbox.queue_messages(session, mails.outgoing)
    audit.log_many(session, "event_phases.pre_show.registration.online", actor=VISITOR,
                   object_type=Registration.__tablename__,
                   entries=[(registration_id, {"created": True, "badge_type": item.badge_type.code, "mailed": True})
                            for registration_id, item in zip(ids, group, strict=True)])
    return [(item.index, Registered(registration_id, True, True))
            for item, registration_id in zip(group, ids, strict=True)]


def _new_badge(edition: Row, item: _Checked, registration_id: int, company: str, signer: Signer) -> badges.BadgeData:
    """The badge of a registration just inserted, from what the group has at hand (badges.badge_data would read
    the same back): its first version, registered."""
    badge_type = item.badge_type
    return badges.BadgeData(registration_id, FIRST_BADGE_VERSION, signer.sign(registration_id, FIRST_BADGE_VERSION),
                            item.person.full_name, company, badge_type.code, badge_type.name, badge_type.name_zh,
                            badge_type.color, edition.name, edition.badge_layout, "registered")


def _register(session: Session, show: _Show, *, form: RegistrationIn, signer: Signer, links: Links,
              now: datetime) -> Registered:
    person, answers = checked(show.questions, form)
    badge_type = badge_type_for(session, edition=show.edition, questions=show.questions, answers=answers,
                                types=show.types)
    contact, new_contact = contacts.upsert_contact(session, data=person, source=SOURCE, actor=VISITOR, now=now)
    registration, created = contacts.register(session, contact_id=contact.id, edition_id=show.edition.id,
                                              badge_type_id=badge_type.id, source=SOURCE, answers=answers,
                                              actor=VISITOR, new_contact=new_contact)
    reinstated = registration.status == "cancelled"
    if reinstated:  # they registered again: a new badge, and the ones they had stay refused at the gates
        badges.reinstate(session, registration_id=registration.id, actor=VISITOR, reason="registered again online")
    interests = None
    if created:
        interests = matchmaking.record_interests(session, registration=registration, questions=show.questions,
                                                 replace=False)
    mailed = created or reinstated or not _mailed_since(session, contact.id, now - RESEND_AFTER)
    if mailed:
        send_confirmation(session, registration=registration, signer=signer, links=links,
                          language=person.language, interests=interests, known=show.catalogue)
    audit.log(session, "event_phases.pre_show.registration.online", actor=VISITOR, obj=registration,
              data={"created": created, "badge_type": badge_type.code, "mailed": mailed})
    session.flush()
    return Registered(registration.id, created, mailed)


def _mailed_since(session: Session, contact_id: int, since: datetime) -> bool:
    return bool(session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.contact_id == contact_id, OutboxMessage.kind == CONFIRMED,
        OutboxMessage.created_at >= since)))

