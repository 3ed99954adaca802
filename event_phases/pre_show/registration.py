"""Public visitor registration: the form of an edition, registering, the confirmation mail with the e-badge, the
e-badge page and cancelling.

People and registrations go through the core's contact services (exhibit_crm.contacts), which normalise e-mail and
phone, find the same person by e-mail then phone, and return the registration a person already has; their unique
constraints make two racing submissions end in one contact and one registration.

Rules the organiser can rely on:
- Badge type: the first answered option (questions in position order, options in their listed order) that names a
  `"badge_type"` the edition has; else the edition's `visitor_badge_type`; else its `trade_visitor` badge type. An
  edition with none of these refuses registrations (`no_visitor_badge_type`) rather than guess.
- Consents: the form asks both each time, unticked by default; what the person ticks on their latest form is their
  choice, recorded with its time, the text version (CONSENT_TEXT_VERSION) and the source "online".
- The same person again (same e-mail or phone): their contact is updated, their registration stays as it was, and
  the confirmation mail goes again to the address on file (at most once per RESEND_AFTER), rather than the badge
  being shown to whoever typed their e-mail.
- A cancelled registration is not reinstated by registering again: the form says so (`registration_cancelled`);
  the organiser decides.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cached_property, lru_cache
from typing import NamedTuple

from babel import Locale
from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import escape
from sqlalchemy import Row, bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel

from badge_scanner import issued_badges as badges
from badge_scanner.codes import Signer
from event_phases.pre_show import matchmaking
from exhibit_crm import audit, contacts, outbox
from exhibit_crm.answers import FormRefused, check_answers
from exhibit_crm.errors import Conflict, DomainError, InvalidInput, NotFound
from exhibit_crm.models import (
    BadgeType,
    Contact,
    Edition,
    OutboxMessage,
    Registration,
    RegistrationQuestion,
    Series,
    utcnow,
)
from exhibit_crm.settings import LANGUAGES
from exhibit_crm.web.templating import render_in
from exporters.badges import QR_ATTACHMENT

SOURCE = "online"
# bump when the consent wording on the form changes, so that each recorded consent names the text it answered
CONSENT_TEXT_VERSION = "2026-1"
FALLBACK_BADGE_TYPE = "trade_visitor"
RESEND_AFTER = timedelta(minutes=10)
EBADGE_PATH = "/e-badge/{token}"
# the badge version of a new registration (the column's default)
FIRST_BADGE_VERSION = 1
VISITOR = audit.Actor("visitor", None, "online registration")
# field: (required, longest) in the order the form shows them; the limits are the contact table's
CONTACT_FIELDS = {"full_name": (True, 200), "company": (False, 300), "title": (False, 200), "phone": (True, 40),
                  "email": (True, 254), "country": (False, 2), "province": (False, 100), "city": (False, 100)}
# outbox kinds of the two mails
CONFIRMED, CANCELLED = "registration_confirmed", "registration_cancelled"


# What the form shows.

@dataclass(frozen=True)
class Option:
    value: str
    label: str
    label_zh: str

    def text(self, language: str) -> str:
        return self.label_zh if language == "zh-CN" and self.label_zh else self.label or self.value


@dataclass(frozen=True)
class Question:
    key: str
    label: str
    label_zh: str
    kind: str  # single | multiple | text
    required: bool
    options: tuple[Option, ...]

    def text(self, language: str) -> str:
        return self.label_zh if language == "zh-CN" and self.label_zh else self.label


@dataclass(frozen=True)
class RegistrationForm:
    edition_id: int
    edition_name: str
    series_name: str
    series_name_zh: str
    year: int
    venue: str
    is_open: bool
    questions: tuple[Question, ...]

    def title(self, language: str) -> str:
        series = self.series_name_zh if language == "zh-CN" and self.series_name_zh else self.series_name
        return f"{series} {self.year}"


def _question(row: RegistrationQuestion) -> Question:
    options = tuple(Option(str(o.get("value", "")), str(o.get("label") or o.get("value", "")),
                           str(o.get("label_zh") or "")) for o in row.options or ())
    return Question(row.key, row.label, row.label_zh, row.kind, row.required, options)


def _question_rows(session: Session, edition_id: int) -> list[RegistrationQuestion]:
    return list(session.scalars(select(RegistrationQuestion).where(RegistrationQuestion.edition_id == edition_id)
                                .order_by(RegistrationQuestion.position, RegistrationQuestion.id)))


def registration_form(session: Session, *, edition_id: int) -> RegistrationForm:
    """The public form of an edition: its names, whether it is open, its questions in position order."""
    row = session.execute(select(Edition, Series).join(Series, Series.id == Edition.series_id)
                          .where(Edition.id == edition_id)).first()
    if row is None:
        raise NotFound("edition", edition_id)
    edition, series = row
    return RegistrationForm(edition.id, edition.name, series.name, series.name_zh, edition.year, edition.venue,
                            edition.registration_open,
                            tuple(_question(q) for q in _question_rows(session, edition_id)))


@lru_cache(maxsize=4)
def countries(language: str) -> tuple[tuple[str, str], ...]:
    """(ISO code, name in the language) of every country and region, China first, then by name."""
    names = Locale.parse(language.replace("-", "_")).territories
    found = sorted(((code, name) for code, name in names.items() if len(code) == 2 and code.isalpha()),
                   key=lambda item: (item[0] != "CN", item[1]))
    return tuple(found)


@lru_cache(maxsize=1)
def _country_codes() -> frozenset[str]:
    return frozenset(code for code, _name in countries("en"))


# What the form sends.

# RegistrationIn: the form as the visitor filled it in; register_visitor checks and normalises every field.
class RegistrationIn(SQLModel):
    full_name: str = ""
    company: str = ""
    title: str = ""
    phone: str = ""
    email: str = ""
    country: str = ""
    province: str = ""
    city: str = ""
    language: str = "zh-CN"
    # question key -> the value (single choice, text) or values (multiple choice)
    answers: dict[str, str | list[str]] = Field(default_factory=dict)
    consent_marketing: bool = False
    consent_share: bool = False


class RegistrationRefused(FormRefused):
    """A registration form with fields to correct; `errors` maps each field, in form order, to its error."""


@dataclass(frozen=True)
class Registered:
    registration_id: int
    created: bool  # False: the person was registered already
    mailed: bool  # a confirmation mail was queued now


@dataclass(frozen=True)
class Links:
    """Addresses of e-badge pages: a signed token names the registration, so nobody can guess another's page."""

    base_url: str
    secret: str

    @cached_property
    def _serializer(self) -> URLSafeSerializer:
        return URLSafeSerializer(self.secret, salt="exhibit-crm.e-badge")

    def token(self, registration_id: int) -> str:
        # the writer makes it for the mail, the request again for its redirect
        return _token(self, registration_id)

    def registration_id(self, token: str) -> int:
        """The registration a token names; NotFound for anything not made by token()."""
        try:
            value = self._serializer.loads(token)
        except BadSignature:
            raise NotFound("e-badge") from None
        if not isinstance(value, int):
            raise NotFound("e-badge")
        return value

    def ebadge_url(self, registration_id: int) -> str:
        return self.base_url.rstrip("/") + EBADGE_PATH.format(token=self.token(registration_id))


@lru_cache(maxsize=4096)
def _token(links: Links, registration_id: int) -> str:
    return links._serializer.dumps(registration_id)


def _refusal(errors: dict, name: str, code: str, message: str) -> None:
    errors.setdefault(name, InvalidInput(code, f"{name}: {message}", field=name))


def _checked_contact(form: RegistrationIn, errors: dict) -> dict:
    values = {}
    for name, (required, longest) in CONTACT_FIELDS.items():
        value = " ".join(str(getattr(form, name) or "").split())
        if required and not value:
            _refusal(errors, name, "required", "this field is needed")
        elif len(value) > longest:
            _refusal(errors, name, "too_long", f"at most {longest} characters")
        values[name] = value
    for name, check in (("email", contacts.normalise_email), ("phone", contacts.normalise_phone)):
        if values[name] and name not in errors:
            try:
                values[name] = check(values[name])
            except InvalidInput as exc:
                errors[name] = exc
    if values["country"] and values["country"].upper() not in _country_codes():
        _refusal(errors, "country", "invalid_choice", "not a country code")
    values["country"] = values["country"].upper()
    return values


def checked(questions: list[RegistrationQuestion], form: RegistrationIn) -> tuple[contacts.ContactIn, dict]:
    """The person and the answers, every field checked before anything is written; RegistrationRefused lists
    every mistake at once, in the order the form shows the fields."""
    errors: dict[str, DomainError] = {}
    values = _checked_contact(form, errors)
    answers = check_answers(questions, form.answers, errors)
    if errors:
        raise RegistrationRefused.ranked(errors, [*CONTACT_FIELDS, *(f"answers.{q.key}" for q in questions)])
    person = contacts.ContactIn(**values, language=form.language if form.language in LANGUAGES else "zh-CN",
                                consent_marketing=form.consent_marketing, consent_share=form.consent_share,
                                consent_text_version=CONSENT_TEXT_VERSION)
    return person, answers


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
    mails = _ConfirmationMails()
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
    if registration.status == "cancelled":
        raise Conflict("registration_cancelled", "this person's registration for the edition was cancelled")
    interests = None
    if created:
        interests = matchmaking.record_interests(session, registration=registration, questions=show.questions,
                                                 replace=False)
    mailed = created or not _mailed_since(session, contact.id, now - RESEND_AFTER)
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


def send_confirmation(session: Session, *, registration: Registration, signer: Signer, links: Links,
                      language: str, interests: set[str] | None = None,
                      known: matchmaking.Catalogue | None = None) -> OutboxMessage:
    """Queue the confirmation mail: the e-badge's QR as an attached PNG, its page's link, recommended exhibitors
    (`interests`, `known`: the registration's interests and the edition's catalogue, when the caller has them)."""
    view = ebadge(session, registration_id=registration.id, signer=signer, links=links, interests=interests,
                  known=known)
    return _queue_mail(session, kind=CONFIRMED, view=view, language=language,
                       attachments=(_badge_attachment(view.badge.code),))


def _contact_of(session: Session, registration: Registration) -> Contact:
    return session.get(Contact, registration.contact_id)


def _mail(*, kind: str, view: EBadge, language: str,
          attachments: tuple[tuple[str, str, bytes], ...] = ()) -> outbox.Outgoing | None:
    """One of the two mails in the registrant's language; None when the person gave no e-mail address."""
    if not view.email:
        return None
    language = language if language in LANGUAGES else "zh-CN"
    context = {"view": view, "badge": view.badge}
    return outbox.Outgoing(to_addr=view.email, to_name=view.badge.full_name,
                           subject=render_in(f"mail/{kind}_subject.txt", language, context).strip(),
                           text_body=render_in(f"mail/{kind}.txt", language, context),
                           html_body=render_in(f"mail/{kind}.html", language, context),
                           attachments=attachments, kind=kind, contact_id=view.contact_id)


# the markers of _ConfirmationMails: no form can send one (nobody knows it) and escaping leaves it as it is
_MARK = f"\ue000{uuid.uuid4().hex}"
_MARKS = re.compile(re.escape(_MARK) + r"(name|company|url|code|email)\ue000")


def _marker(field: str) -> str:
    return f"{_MARK}{field}\ue000"


class _ConfirmationMails:
    """The confirmation mails of a group. Mails that differ only in who gets them (same language, badge type,
    edition and recommendations) are rendered once, with markers in place of the person's name, company, link,
    code and address, and each mail replaces the markers (HTML-escaped in the HTML body): what _mail renders, at a
    fraction of the cost. So the confirmation templates show those values as they are, through no filter, and
    show no id."""

    def __init__(self) -> None:
        self.outgoing: list[outbox.Outgoing] = []
        self._rendered: dict[tuple[str, EBadge], tuple[str, str, str]] = {}

    def add(self, view: EBadge) -> None:
        if not view.email:
            return
        language = view.language if view.language in LANGUAGES else "zh-CN"
        shape = replace(view, badge=replace(view.badge, registration_id=0, code=_marker("code"),
                                            full_name=_marker("name"), company=_marker("company")),
                        contact_id=0, email=_marker("email"), url=_marker("url"))
        key = (language, shape)
        if key not in self._rendered:
            mail = _mail(kind=CONFIRMED, view=shape, language=language)
            self._rendered[key] = (mail.subject, mail.text_body, mail.html_body)
        subject, text, html = self._rendered[key]
        plain = {"name": view.badge.full_name, "company": view.badge.company, "url": view.url,
                 "code": view.badge.code, "email": view.email}
        escaped = {field: str(escape(value)) for field, value in plain.items()}
        self.outgoing.append(outbox.Outgoing(
            to_addr=view.email, to_name=view.badge.full_name, subject=self._fill(subject, plain).strip(),
            text_body=self._fill(text, plain), html_body=self._fill(html, escaped),
            attachments=(_badge_attachment(view.badge.code),), kind=CONFIRMED, contact_id=view.contact_id))

    @staticmethod
    def _fill(text: str, values: dict[str, str]) -> str:
        return _MARKS.sub(lambda found: values[found.group(1)], text)


def _queue_mail(session: Session, *, kind: str, view: EBadge, language: str,
                attachments: tuple[tuple[str, str, bytes], ...] = ()) -> OutboxMessage | None:
    mail = _mail(kind=kind, view=view, language=language, attachments=attachments)
    return None if mail is None else outbox.queue_one(session, mail)


def _badge_attachment(code: str) -> tuple[str, str, bytes]:
    return ("e-badge.png", QR_ATTACHMENT, code.encode("ascii"))


# The e-badge page and cancelling.

@dataclass(frozen=True)
class EBadge:
    badge: badges.BadgeData
    contact_id: int
    email: str | None
    edition_id: int
    url: str
    recommendations: tuple[matchmaking.Recommendation, ...]
    language: str  # the registrant's

    @property
    def cancelled(self) -> bool:
        return self.badge.status == "cancelled"

    def badge_type(self, language: str) -> str:
        zh = self.badge.badge_type_name_zh
        return zh if language == "zh-CN" and zh else self.badge.badge_type_name


def ebadge(session: Session, *, registration_id: int, signer: Signer, links: Links, interests: set[str] | None = None,
           known: matchmaking.Catalogue | None = None) -> EBadge:
    """What the e-badge page and the mails show of a registration, with its current badge code."""
    registration = session.get(Registration, registration_id)
    if registration is None or registration.exhibitor_id is not None:
        raise NotFound("e-badge")
    badge = badges.badge_data(session, registration_id=registration_id, signer=signer)
    contact = _contact_of(session, registration)
    recommended = () if registration.status == "cancelled" else tuple(matchmaking.exhibitors_for(
        session, registration_id=registration_id, interests=interests, known=known))
    return EBadge(badge, contact.id, contact.email, registration.edition_id, links.ebadge_url(registration_id),
                  recommended, contact.language)


def cancel_registration(session: Session, *, registration_id: int, signer: Signer, links: Links,
                        actor: audit.Actor = VISITOR) -> Registration:
    """Cancel a registration from its e-badge page: the badge stops working and the person gets a mail saying so;
    cancelling again changes nothing and sends nothing."""
    registration = session.get(Registration, registration_id)
    if registration is None or registration.exhibitor_id is not None:
        raise NotFound("e-badge")
    if registration.status == "cancelled":
        return registration
    badges.cancel(session, registration_id=registration_id, actor=actor, reason="cancelled by the visitor")
    view = ebadge(session, registration_id=registration_id, signer=signer, links=links)
    language = _contact_of(session, registration).language
    _queue_mail(session, kind=CANCELLED, view=view, language=language)
    session.flush()
    return registration


# The organiser's settings.

@dataclass(frozen=True)
class Settings:
    edition: Edition
    series_name: str
    badge_types: tuple[BadgeType, ...]
    registrations: int


def registration_settings(session: Session, *, edition_id: int) -> Settings:
    """An edition's registration settings, its badge types and how many have registered online."""
    form = registration_form(session, edition_id=edition_id)
    edition = session.get(Edition, edition_id)
    types = tuple(session.scalars(select(BadgeType).where(BadgeType.edition_id == edition_id).order_by(BadgeType.id)))
    count = session.scalar(select(func.count()).select_from(Registration).where(
        Registration.edition_id == edition_id, Registration.source == SOURCE)) or 0
    return Settings(edition, form.series_name, types, count)


def update_settings(session: Session, *, edition_id: int, registration_open: bool, visitor_badge_type: str,
                    actor: audit.Actor) -> Edition:
    """Open or close an edition's public form and set the badge type it gives when no answer names one."""
    edition = session.get(Edition, edition_id, with_for_update=True)
    if edition is None:
        raise NotFound("edition", edition_id)
    code = (visitor_badge_type or "").strip()
    if code and session.scalar(select(BadgeType.id).where(BadgeType.edition_id == edition_id,
                                                          BadgeType.code == code)) is None:
        raise InvalidInput("invalid_choice", "visitor_badge_type: not one of the edition's badge types",
                           field="visitor_badge_type")
    edition.registration_open, edition.visitor_badge_type = bool(registration_open), code
    session.add(edition)
    audit.log(session, "event_phases.pre_show.registration.settings", actor=actor, obj=edition,
              data={"registration_open": edition.registration_open, "visitor_badge_type": code})
    session.flush()
    return edition


def editions(session: Session) -> list[tuple[Edition, Series]]:
    """Every edition with its series, newest first, for the settings page's list."""
    return [(edition, series) for edition, series in session.execute(
        select(Edition, Series).join(Series, Series.id == Edition.series_id)
        .order_by(Edition.year.desc(), Edition.id.desc()))]
