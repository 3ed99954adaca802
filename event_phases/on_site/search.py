"""The desk's search box: a person by any part of their name, company, e-mail, phone digits or badge code.

Every suffix of each contact's folded name, e-mail and phone digits, and of each company's folded name, is a row of
an index that database triggers keep current (exhibit_crm/models/search.py, migration 0002). A substring is then a
prefix of some suffix, and a prefix is one range of a b-tree: two Chinese characters cost what twenty Latin ones do,
on SQLite and PostgreSQL alike, and no query scans the contacts.

Best matches first: the badge code, then the exact name, names starting with the text, names containing it,
companies starting with it, companies containing it, e-mails, phone numbers. Each tier is one query in index order
(alphabetical by what follows the typed text), cut at the limit, so a one-letter query costs no more than a long one.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import and_, bindparam, literal, select, union_all
from sqlalchemy.orm import Session

from badge_scanner.code_format import InvalidCode, looks_like_code
from badge_scanner.codes import Verifier
from exhibit_crm.models import BadgeType, Company, Contact, Registration
from exhibit_crm.models import search as index
from exhibit_crm.models.search import DeskSearchCompanyTerm, DeskSearchTerm, fold, phone_digits

MAX_QUERY = 100
_PHONE_LIKE = re.compile(r"\+?[\d\s()./-]+")


@dataclass(frozen=True)
class Hit:
    """One person the search found, with their registration in the edition (None fields when they have none)."""

    registration_id: int | None
    contact_id: int
    full_name: str
    company: str
    email: str | None
    phone: str | None
    badge_type_name: str | None
    status: str | None
    collected_at: datetime | None
    badge_version: int | None
    # what matched: "badge_code", "name", "company", "email" or "phone"
    matched: str = ""
    badge_type_name_zh: str | None = None


def search(session: Session, *, edition_id: int, query: str, verifier: Verifier | None = None, limit: int = 20,
           include_unregistered: bool = False) -> list[Hit]:
    """The people of an edition that what the desk typed finds, best matches first; with include_unregistered,
    then the contacts it finds who have no registration in the edition (hints against registering someone twice)."""
    text = unicodedata.normalize("NFKC", query or "").strip()[:MAX_QUERY]
    if not text or limit < 1:
        return []
    if verifier is not None and looks_like_code(query):
        # a badge code is nobody's name: it names one registration or nothing
        contact_id = _contact_for_code(session, edition_id=edition_id, code=query, verifier=verifier)
        return _hits(session, edition_id=edition_id, matched={contact_id: "badge_code"} if contact_id else {})
    # A tier may return what was found already (an exact name is also a prefix; the edition's people are among
    # everyone), so each returns up to twice the limit: enough to fill up after dropping fewer than `limit` repeats.
    params = {**_parameters(text), "edition_id": edition_id, "limit": 2 * limit}
    matched: dict[int, str] = {}
    for registered_only in (True, False) if include_unregistered else (True,):
        if len(matched) < limit:
            for rank, contact_id in session.connection().execute(_statement(registered_only), params):
                if len(matched) == limit:
                    break
                matched.setdefault(contact_id, TIERS[rank].matched)
    return _hits(session, edition_id=edition_id, matched=matched)


class Tier(NamedTuple):
    matched: str         # what the hit shows as matched
    table: type          # the index: DeskSearchTerm (contacts) or DeskSearchCompanyTerm (companies)
    kind: int            # which terms of it
    key: str = "key"     # the parameter holding the text looked for
    exact: bool = False  # the whole term, not a prefix


# by rank: the order of the results
TIERS = [
    Tier("name", DeskSearchTerm, index.NAME, exact=True),
    Tier("name", DeskSearchTerm, index.NAME),           # names starting with the text
    Tier("name", DeskSearchTerm, index.NAME_INSIDE),    # names holding it further on
    Tier("company", DeskSearchCompanyTerm, index.COMPANY),
    Tier("company", DeskSearchCompanyTerm, index.COMPANY_INSIDE),
    Tier("email", DeskSearchTerm, index.EMAIL),
    Tier("phone", DeskSearchTerm, index.PHONE, key="phone0"),  # the digits as typed
    Tier("phone", DeskSearchTerm, index.PHONE, key="phone1"),  # without an international or trunk prefix
]
_NOTHING = 0  # a kind no row has: the tier's range is then empty, and one statement serves every query


def _parameters(text: str) -> dict:
    """The statement's parameters for what was typed: each tier's kind (or _NOTHING) and range."""
    key = fold(text)
    phones = _phone_keys(text) if _PHONE_LIKE.fullmatch(text) else []
    # single characters inside names and companies are not indexed: they would find nearly everyone
    usable = [bool(key), bool(key), len(key) >= 2, bool(key), len(key) >= 2, bool(key), len(phones) > 0,
              len(phones) > 1]
    params = {f"kind{rank}": tier.kind if usable[rank] else _NOTHING for rank, tier in enumerate(TIERS)}
    for name, value in (("key", key), ("phone0", phones[0] if phones else ""),
                        ("phone1", phones[1] if len(phones) > 1 else "")):
        params[name], params[f"{name}_end"] = value, _after(value)
    return params


def _phone_keys(text: str) -> list[str]:
    """The digits to look for: as typed, and without an international (00) or trunk (0) prefix of a full number."""
    digits = phone_digits(text)
    keys = [digits]
    if len(digits) > 6 and digits.startswith("0"):
        keys.append(digits[2:] if digits.startswith("00") else digits.lstrip("0"))
    return [key for key in keys if len(key) >= 4]


def _after(prefix: str) -> str:
    """A string greater than every string that starts with prefix, and smaller than any other greater string."""
    for position in range(len(prefix) - 1, -1, -1):
        code = ord(prefix[position]) + 1
        if 0xD800 <= code <= 0xDFFF:  # surrogates cannot be stored
            code = 0xE000
        if code <= sys.maxunicode:
            return prefix[:position] + chr(code)
    return prefix + chr(sys.maxunicode)


@functools.cache
def _statement(registered_only: bool):
    """Every tier in one UNION ALL, each in index order and cut at :limit: one round trip per search."""
    found = union_all(*(select(_tier(rank, tier, registered_only).subquery(f"tier{rank}"))
                        for rank, tier in enumerate(TIERS))).subquery("found")
    return select(found.c.rank, found.c.contact_id).order_by(found.c.rank, found.c.term, found.c.company_id,
                                                             found.c.contact_id)


def _tier(rank: int, tier: Tier, registered_only: bool):
    """(rank, term, company_id, contact_id) of one tier's first :limit matches."""
    term = tier.table.__table__.alias(f"t{rank}")
    if tier.table is DeskSearchCompanyTerm:
        contact = Contact.__table__.alias(f"c{rank}")
        contact_id, company_id = contact.c.id, term.c.company_id
        source = term.join(contact, contact.c.company_id == term.c.company_id)
        order = [term.c.term, company_id, contact_id]
    else:
        contact_id, company_id, source = term.c.contact_id, literal(0), term
        order = [term.c.term, contact_id]
    if registered_only:
        registration = Registration.__table__.alias(f"r{rank}")
        source = source.join(registration, and_(registration.c.contact_id == contact_id,
                                                registration.c.edition_id == bindparam("edition_id")))
    match = (term.c.term == bindparam(tier.key) if tier.exact
             else and_(term.c.term >= bindparam(tier.key), term.c.term < bindparam(f"{tier.key}_end")))
    return (select(literal(rank).label("rank"), term.c.term, company_id.label("company_id"),
                   contact_id.label("contact_id"))
            .select_from(source)
            .where(term.c.kind == bindparam(f"kind{rank}"), match)
            .order_by(*order)  # the primary key's order: no sort
            .limit(bindparam("limit")))


def _contact_for_code(session: Session, *, edition_id: int, code: str, verifier: Verifier) -> int | None:
    """The contact whose registration in the edition the code names; an older badge version still finds them."""
    try:
        ref = verifier.verify(code)
    except InvalidCode:
        return None
    registration = session.get(Registration, ref.registration_id)
    if registration is None or registration.edition_id != edition_id:
        return None
    return registration.contact_id


@functools.cache
def _details():
    """The hits' fields for :contact_ids, with their registration in :edition_id when they have one."""
    registration = and_(Registration.contact_id == Contact.id, Registration.edition_id == bindparam("edition_id"))
    return (select(Contact.id, Registration.id, Contact.full_name, Company.name, Contact.email, Contact.phone,
                   BadgeType.name, Registration.status, Registration.collected_at, Registration.badge_version,
                   BadgeType.name_zh)
            .select_from(Contact)
            .outerjoin(Company, Company.id == Contact.company_id)
            .outerjoin(Registration, registration)
            .outerjoin(BadgeType, BadgeType.id == Registration.badge_type_id)
            .where(Contact.id.in_(bindparam("contact_ids", expanding=True))))


def _hits(session: Session, *, edition_id: int, matched: dict[int, str]) -> list[Hit]:
    """The hits for the contacts found, in the order found."""
    if not matched:
        return []
    rows = session.connection().execute(_details(), {"edition_id": edition_id, "contact_ids": list(matched)})
    by_contact = {row[0]: row for row in rows}
    hits = []
    for contact_id, label in matched.items():
        if (row := by_contact.get(contact_id)) is None:
            continue
        _, registration_id, full_name, company, email, phone, badge_type, status, collected_at, version, zh = row
        hits.append(Hit(registration_id=registration_id, contact_id=contact_id, full_name=full_name,
                        company=company or "", email=email, phone=phone, badge_type_name=badge_type, status=status,
                        collected_at=collected_at, badge_version=version, matched=label, badge_type_name_zh=zh))
    return hits
