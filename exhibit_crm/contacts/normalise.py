"""How a person is written down: e-mail and phone normalised, company names compared, and what any channel knows of
a person (ContactIn), with the fast paths an import takes for the shapes nearly every list is made of."""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

import phonenumbers
from annotated_types import MaxLen, MinLen
from email_validator import EmailNotValidError, validate_email
from pydantic import field_validator
from sqlmodel import Field, SQLModel

from ..errors import InvalidInput


# the same address is checked more than once on its way in (form, ContactIn, outbox), and checking costs more than
# the lookup: remember recent answers (refusals are not cached, they raise)
@lru_cache(maxsize=4096)
def normalise_email(value: str | None) -> str | None:
    """The e-mail as stored: trimmed and lower-case, or None when blank; InvalidInput naming 'email'."""
    value = unicodedata.normalize("NFKC", value or "").strip()
    if not value:
        return None
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput("invalid_email", f"email: {exc}", field="email") from None
    return checked.normalized.lower()


@lru_cache(maxsize=4096)
def normalise_phone(value: str | None, *, region: str = "CN") -> str | None:
    """The phone number in E.164 (+8613800138000), or None when blank; InvalidInput naming 'phone'."""
    value = unicodedata.normalize("NFKC", value or "").strip()  # full-width digits and ＋ become ASCII
    if not value:
        return None
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise InvalidInput("invalid_phone", f"phone: {value!r} is not a valid phone number", field="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def company_key(name: str) -> str:
    """How company names are compared: NFKC, case and spaces ignored."""
    return "".join(unicodedata.normalize("NFKC", name).lower().split())


def tidy(value: str | None) -> str:
    """A text field as stored: NFKC, runs of whitespace as one space, trimmed."""
    return " ".join(unicodedata.normalize("NFKC", value or "").split())


# the text fields ContactIn tidies; the others it takes as they are
TIDIED = ("full_name", "company", "title", "province", "city")


# ContactIn: what any channel knows of a person; e-mail and phone are normalised on validation.
class ContactIn(SQLModel):
    full_name: str = Field(min_length=1, max_length=200)
    email: str | None = None
    phone: str | None = None
    company: str = Field(default="", max_length=300)
    title: str = Field(default="", max_length=200)
    country: str = Field(default="", max_length=2)
    province: str = Field(default="", max_length=100)
    city: str = Field(default="", max_length=100)
    language: str = Field(default="zh-CN", max_length=8)
    # None: this channel did not ask, so an earlier answer stands
    consent_marketing: bool | None = None
    consent_share: bool | None = None
    consent_text_version: str = Field(default="", max_length=40)

    @field_validator(*TIDIED, mode="before")
    @classmethod
    def _tidy(cls, value):
        return tidy(value)

    @field_validator("email", mode="before")
    @classmethod
    def _email(cls, value):
        return normalise_email(value)

    @field_validator("phone", mode="before")
    @classmethod
    def _phone(cls, value):
        return normalise_phone(value)


# Fast paths for the two checks that cost most per row of an import (e-mail and phone validation, ~25 µs each): the
# shapes almost every list is made of are recognised here, and their outcome taken from one full check per e-mail
# domain or per mobile-number prefix. Anything else goes to the full check unchanged. Tests compare both ways.
_SIMPLE_EMAIL = re.compile(r"([a-z0-9]+(?:[._+-][a-z0-9]+)*)@((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})")
# a Chinese mobile as people write it: 138 0013 8000, 138-0013-8000, +86 13800138000, 0086…
_CN_MOBILE = re.compile(r"(?:\+86|0086)?(1[3-9]\d{9})")
_PHONE_NOISE = re.compile(r"[\s\-()]")


@cache
def _domain_ok(domain: str) -> bool:
    try:
        return normalise_email("a@" + domain) == "a@" + domain
    except InvalidInput:
        return False


@cache
def _mobile_prefix_ok(prefix: str) -> bool:
    """Whether mobiles starting with these 7 digits are valid: the numbering plan decides by prefix (CN mobile
    numbers are 11 digits; which ranges are allocated depends on the first five)."""
    try:
        return normalise_phone(prefix + "0000") == "+86" + prefix + "0000"
    except InvalidInput:
        return False


def quick_email(value: str) -> str | None:
    """The normalised e-mail if it has the plain ASCII shape of nearly every address, else None (check fully)."""
    lowered = value.strip().lower()
    found = _SIMPLE_EMAIL.fullmatch(lowered)
    if found is None or len(found.group(1)) > 64 or len(lowered) > 254 or not _domain_ok(found.group(2)):
        return None
    return lowered


def quick_phone(value: str) -> str | None:
    """+86… for a Chinese mobile written in a usual way whose range is allocated, else None (check fully)."""
    found = _CN_MOBILE.fullmatch(_PHONE_NOISE.sub("", value))
    if found is None or not _mobile_prefix_ok(found.group(1)[:7]):
        return None
    return "+86" + found.group(1)


def _lengths(name: str) -> tuple[int, int]:
    """(shortest, longest) ContactIn accepts for a text field: read from the model, so the two cannot drift."""
    metadata = ContactIn.model_fields[name].metadata
    shortest = next((m.min_length for m in metadata if isinstance(m, MinLen)), 0)
    return shortest, next(m.max_length for m in metadata if isinstance(m, MaxLen))


# ContactIn's text fields it tidies, and those it takes as they are, each with its lengths
_TIDIED = {name: _lengths(name) for name in TIDIED}
_PLAIN = {name: _lengths(name) for name in ("country", "language")}


def quick_contact(given: dict[str, str], quick: dict[str, str]) -> dict | None:
    """ContactIn's outcome for a row it accepts whose e-mail and phone the quick checks took (blank fields as "",
    no e-mail or phone as None); None for anything else, which ContactIn then decides (and words the error of).
    Validating a model costs more than all the rest of a row's check. Tests compare both ways."""
    if "full_name" not in given or any(given.get(name) and name not in quick for name in ("email", "phone")):
        return None
    if not quick:
        return None  # unreachable: ContactIn's path words the error
    contact = {"email": quick.get("email"), "phone": quick.get("phone")}
    for names, tidied in ((_TIDIED, True), (_PLAIN, False)):
        for name, (shortest, longest) in names.items():
            value = tidy(given.get(name)) if tidied else given.get(name, "")
            if not shortest <= len(value) <= longest:
                return None
            contact[name] = value
    return contact
