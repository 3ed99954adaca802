"""The public registration form of an edition: what it shows (its questions, in both languages, and the countries)
and what it sends, checked field by field before anything is written."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from babel import Locale
from sqlalchemy import select
from sqlmodel import Field, Session, SQLModel

from exhibit_crm import audit, contacts
from exhibit_crm.answers import FormRefused, check_answers
from exhibit_crm.errors import DomainError, InvalidInput, NotFound
from exhibit_crm.models import (
    Edition,
    RegistrationQuestion,
    Series,
)
from exhibit_crm.settings import LANGUAGES

SOURCE = "online"
# bump when the consent wording on the form changes, so that each recorded consent names the text it answered
CONSENT_TEXT_VERSION = "2026-1"
VISITOR = audit.Actor("visitor", None, "online registration")
# field: (required, longest) in the order the form shows them; the limits are the contact table's
CONTACT_FIELDS = {"full_name": (True, 200), "company": (False, 300), "title": (False, 200), "phone": (True, 40),
                  "email": (True, 254), "country": (False, 2), "province": (False, 100), "city": (False, 100)}


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

