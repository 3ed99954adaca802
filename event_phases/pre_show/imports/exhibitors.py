"""Exhibitor lists: a company and its exhibitor row in the edition per line, booths checked against the edition.

Exhibitor lists are hundreds of lines, not hundreds of thousands, so rows are written one by one through the ORM.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from exhibit_crm.contacts import company_key, find_or_create_company
from exhibit_crm.models import Company, Exhibitor, ExhibitorStatusChange, ProductCategory
from exhibit_crm.models.exhibitors import EXHIBITOR_STATUSES

from .rows import RowError, country_code, fold, split_values

STATUS_NAMES = {"意向": "prospect", "潜在": "prospect", "已签约": "contracted", "签约": "contracted",
                "已付款": "paid", "付款": "paid", "已取消": "cancelled", "取消": "cancelled"}
COMPANY_FIELDS = ("country", "province", "city", "website")


@dataclass
class ExhibitorRow:
    """A valid exhibitor row (fields given only), or several rows of one company merged in file order."""
    line: int
    key: str
    company: str
    values: dict
    categories: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)


class ExhibitorRules:
    """Checks exhibitor rows against the edition: its product categories and the booths already taken."""

    def __init__(self, session: Session, *, edition_id: int):
        rows = session.scalars(select(ProductCategory).where(ProductCategory.edition_id == edition_id)).all()
        self.categories = {fold(s): c.code for c in rows for s in (c.code, c.name, c.name_zh) if s}
        self.booths: dict[tuple[str, str], str] = {}  # booth -> company_key of its holder
        taken = session.execute(select(Exhibitor.booth_hall, Exhibitor.booth_number, Company.name_key)
                                .join(Company, Company.id == Exhibitor.company_id)
                                .where(Exhibitor.edition_id == edition_id, Exhibitor.booth_number.is_not(None)))
        for hall, number, key in taken:
            self.booths[(hall or "", number)] = key

    def check(self, line: int, values: dict[str, str]) -> ExhibitorRow:
        name = " ".join(values.get("company", "").split())
        if not name:
            raise RowError("company", "required", "company: the company name is needed")
        if len(name) > 300:
            raise RowError("company", "too_long", "company: longer than 300 characters")
        given = {n: values[n] for n in ("province", "city", "website") if values.get(n)}
        if values.get("country"):
            given["country"] = country_code(values["country"])
        if values.get("status"):
            given["status"] = self._status(values["status"])
        given.update(self._booth(values, company_key(name)))
        if values.get("staff_allowance"):
            given["staff_allowance"] = _number(values["staff_allowance"], "staff_allowance", whole=True)
        categories = [self._category(v) for v in split_values(values.get("product_categories", ""))]
        return ExhibitorRow(line, company_key(name), name, given, list(dict.fromkeys(categories)), [line])

    def _status(self, value: str) -> str:
        status = value.strip().lower()
        status = STATUS_NAMES.get(fold(value), status)
        if status not in EXHIBITOR_STATUSES:
            raise RowError("status", "invalid_choice", f"status: {value!r} is not one of "
                           + ", ".join(EXHIBITOR_STATUSES))
        return status

    def _booth(self, values: dict[str, str], key: str) -> dict:
        hall, number = values.get("booth_hall", ""), values.get("booth_number", "")
        booth: dict = {}
        if values.get("booth_sqm"):
            booth["booth_sqm"] = _number(values["booth_sqm"], "booth_sqm")
        if hall:
            booth["booth_hall"] = hall[:20]
        if not number:
            return booth
        holder = self.booths.get((hall, number))
        if holder is not None and holder != key:
            raise RowError("booth_number", "booth_taken", f"booth_number: booth {hall} {number} is already "
                           "assigned to another exhibitor")
        self.booths[(hall, number)] = key  # a later row of the file cannot take it either
        return {**booth, "booth_number": number[:20]}

    def _category(self, value: str) -> str:
        code = self.categories.get(fold(value))
        if code is None:
            raise RowError("product_categories", "unknown_category", f"product_categories: {value!r} is not a "
                           "product category of this edition")
        return code


def _number(value: str, name: str, *, whole: bool = False) -> float | int:
    try:
        number = float(value.replace(",", "").replace("m²", "").strip())
    except ValueError:
        raise RowError(name, "invalid_number", f"{name}: {value!r} is not a number") from None
    if number < 0 or (whole and not number.is_integer()):
        raise RowError(name, "invalid_number", f"{name}: {value!r} is not a " + ("whole " if whole else "")
                       + "number of 0 or more")
    return int(number) if whole else number


def merge_rows(rows: list[ExhibitorRow]) -> list[ExhibitorRow]:
    """Rows of the same company (by company_key) merged: later values win, categories add up."""
    by_key: dict[str, ExhibitorRow] = {}
    for row in rows:
        first = by_key.get(row.key)
        if first is None:
            by_key[row.key] = row
            continue
        first.values.update(row.values)
        first.categories = list(dict.fromkeys([*first.categories, *row.categories]))
        first.lines.append(row.line)
    return list(by_key.values())


def known_exhibitors(session: Session, *, edition_id: int, keys: list[str]) -> set[str]:
    """The company keys among `keys` that are exhibitors of the edition already."""
    rows = session.scalars(select(Company.name_key).join(Exhibitor, Exhibitor.company_id == Company.id)
                           .where(Exhibitor.edition_id == edition_id))
    return set(rows) & set(keys)


def write_exhibitor(session: Session, row: ExhibitorRow, *, edition_id: int, now: datetime) -> bool:
    """Create or update the company and its exhibitor row; True if the exhibitor is new."""
    company = find_or_create_company(session, name=row.company)
    for name in COMPANY_FIELDS:
        if row.values.get(name):
            setattr(company, name, row.values[name])
    exhibitor = session.scalars(select(Exhibitor).where(Exhibitor.edition_id == edition_id,
                                                        Exhibitor.company_id == company.id)).first()
    created = exhibitor is None
    if created:
        exhibitor = Exhibitor(edition_id=edition_id, company_id=company.id, created_at=now)
        session.add(exhibitor)
    old_status = None if created else exhibitor.status
    for name in ("status", "booth_hall", "booth_number", "booth_sqm", "staff_allowance"):
        if name in row.values:
            setattr(exhibitor, name, row.values[name])
    if row.categories:
        exhibitor.product_categories = list(dict.fromkeys([*(exhibitor.product_categories or []), *row.categories]))
    session.flush()
    if exhibitor.status != old_status:
        session.add(ExhibitorStatusChange(exhibitor_id=exhibitor.id, status=exhibitor.status, changed_at=now))
    return created
