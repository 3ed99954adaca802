"""A new edition from a previous one, as a yearly show starts: the source's set-up copied into a new edition of the
same series — its days moved to the new dates, zones with their re-entry rules, gates, badge types (with every
setting they carry) and which zones they open on which day, registration questions with their options, product
categories, the badge layout and the registration settings. Nothing personal (registrations, exhibitors, leads,
scans), no devices (a device belongs to a gate of its own edition) and no targets: last year's targets copied
would stand in the new edition's statistics as targets nobody set for it.

The new days: from `start` on, keeping the source's gaps between days; or, without `start`, the same weekdays about
a year (or several) later — the first day on the weekday of the source's first day nearest to the same calendar
date, e.g. Tuesday 10 March 2026 → Tuesday 9 March 2027."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlmodel import Session, SQLModel

from . import audit
from .db import found
from .errors import Conflict, InvalidInput, validate_input
from .models import (
    BadgeType,
    Edition,
    EditionBase,
    EditionDay,
    Gate,
    ProductCategory,
    RegistrationQuestion,
    Zone,
    ZoneAccess,
)

# columns a copy never takes over: its own key and creation time, and the parent it gets anew
_OWN = {"id", "created_at"}


@dataclass
class Copied:
    """The new edition, its days, and how many of each part were copied."""

    edition: Edition
    days: list[date]
    copied: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"id": self.edition.id, "name": self.edition.name, "year": self.edition.year,
                "days": [day.isoformat() for day in self.days], "copied": self.copied}


def _same_date_in(day: date, year: int) -> date:
    try:
        return day.replace(year=year)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=year, day=28)


def moved_days(days: list[date], *, year: int, start: date | None = None) -> dict[date, date]:
    """Each of the source's days (sorted) and its new date: from `start` keeping the gaps, or in `year` on the same
    weekdays, the first day on its weekday nearest to the same calendar date."""
    if not days:
        return {}
    first = days[0]
    if start is None:
        near = _same_date_in(first, year)
        shift = (first.weekday() - near.weekday()) % 7
        start = near + timedelta(days=shift - 7 if shift > 3 else shift)
    return {day: start + (day - first) for day in days}


def _clone(row: SQLModel, **changes) -> SQLModel:
    """A new row of the same table with the same values but its own key, creation time and the `changes`."""
    values = {column.name: getattr(row, column.name) for column in row.__table__.columns if column.name not in _OWN}
    return type(row)(**{**values, **changes})


def _rows(session: Session, model: type[SQLModel], *where) -> list:
    return list(session.scalars(select(model).where(*where).order_by(model.id)))


def _check(session: Session, source: Edition, *, year: int, moved: dict[date, date]) -> None:
    taken = session.scalar(select(Edition.id).where(Edition.series_id == source.series_id, Edition.year == year))
    if taken is not None:
        raise Conflict("edition_exists", f"year: the series has an edition in {year} already (id {taken}); "
                       "a copy makes a new edition", field="year")
    overlap = sorted(set(moved.values()) & set(moved))
    if overlap:
        raise InvalidInput("overlapping_days", f"start: the new days overlap the source's ({overlap[0]})",
                           field="start")


def _new_values(source: Edition, *, year: int, name: str | None) -> dict:
    """The new edition's name and year, checked as any edition's are (EditionBase)."""
    default = source.name.replace(str(source.year), str(year)) if str(source.year) in source.name \
        else f"{source.name} {year}"
    values = {field: getattr(source, field) for field in EditionBase.model_fields}
    checked = validate_input(EditionBase, {**values, "year": year, "name": (name or "").strip() or default})
    return {"year": checked.year, "name": checked.name}


def _new_edition(session: Session, source: Edition, new: dict) -> Edition:
    edition = _clone(source, **new)
    session.add(edition)
    session.flush()
    return edition


def _copy_all(session: Session, rows: list, **changes) -> dict[int, int]:
    """Copies of `rows` with `changes` (a value, or a function of the row); {old id: new id}."""
    made = []
    for row in rows:
        made.append((row, _clone(row, **{key: value(row) if callable(value) else value
                                          for key, value in changes.items()})))
    session.add_all([copy for _row, copy in made])
    session.flush()
    return {row.id: copy.id for row, copy in made}


def _copy_parts(session: Session, source: Edition, edition: Edition, source_days: list[EditionDay],
                moved: dict[date, date]) -> dict[str, int]:
    """The source's days, zones, gates, badge types, zone access, questions and categories, copied into `edition`;
    how many of each."""
    new = {"edition_id": edition.id}
    days = _copy_all(session, source_days, **new, day=lambda row: moved[row.day])
    zones = _copy_all(session, _rows(session, Zone, Zone.edition_id == source.id), **new)
    zone_ids = list(zones)
    gates = _copy_all(session, _rows(session, Gate, Gate.zone_id.in_(zone_ids)), zone_id=lambda row: zones[row.zone_id])
    types = _copy_all(session, _rows(session, BadgeType, BadgeType.edition_id == source.id), **new)
    access = _copy_all(session, _rows(session, ZoneAccess, ZoneAccess.zone_id.in_(zone_ids)),
                       zone_id=lambda row: zones[row.zone_id], badge_type_id=lambda row: types[row.badge_type_id],
                       day_id=lambda row: None if row.day_id is None else days[row.day_id])
    questions = _copy_all(session, _rows(session, RegistrationQuestion, RegistrationQuestion.edition_id == source.id),
                          **new)
    categories = _copy_all(session, _rows(session, ProductCategory, ProductCategory.edition_id == source.id), **new)
    return {"days": len(days), "zones": len(zones), "gates": len(gates), "badge_types": len(types),
            "zone_access": len(access), "questions": len(questions), "categories": len(categories)}


def copy_edition(session: Session, *, edition_id: int, year: int, start: date | None = None,
                 name: str | None = None, actor: audit.Actor = audit.CLI) -> Copied:
    """A new edition of the source's series in `year` with the source's set-up (see the module's docstring)."""
    source = found(session, Edition, edition_id, what="edition")
    source_days = _rows(session, EditionDay, EditionDay.edition_id == source.id)
    new = _new_values(source, year=year, name=name)
    moved = moved_days(sorted(day.day for day in source_days), year=year, start=start)
    _check(session, source, year=year, moved=moved)
    edition = _new_edition(session, source, new)
    copied = _copy_parts(session, source, edition, source_days, moved)
    audit.log(session, "exhibit_crm.edition.copied", actor=actor, obj=edition,
              data={"source_id": source.id, "year": year, **copied})
    return Copied(edition, sorted(moved.values()), copied)
