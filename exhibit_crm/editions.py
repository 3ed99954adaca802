"""Setting up a show: series, editions and what belongs to an edition (days, zones, gates, badge types,
registration questions, product categories). One generic set of services serves the admin pages and the API."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel

from . import audit
from .db import found
from .errors import Conflict, InvalidInput, NotFound, validate_input
from .models import (
    BadgeType,
    BadgeTypeBase,
    Edition,
    EditionBase,
    EditionDay,
    EditionDayBase,
    Gate,
    GateBase,
    ProductCategory,
    RegistrationQuestion,
    RegistrationQuestionBase,
    Series,
    SeriesBase,
    Zone,
    ZoneBase,
)


class ProductCategoryBase(SQLModel):
    code: str = Field(min_length=1, max_length=40, schema_extra={"pattern": r"^[a-z0-9_]+$"})
    name: str = Field(min_length=1, max_length=120)
    name_zh: str = Field(default="", max_length=120)


@dataclass(frozen=True)
class Kind:
    """One kind of thing an admin sets up: its table, what input looks like, and what it belongs to."""

    name: str
    model: type[SQLModel]
    schema: type[BaseModel]
    parent: str | None  # the foreign-key column naming the parent, e.g. "edition_id"
    order: tuple[str, ...] = ("id",)


KINDS = {kind.name: kind for kind in (
    Kind("series", Series, SeriesBase, None, ("name",)),
    Kind("edition", Edition, EditionBase, "series_id", ("year",)),
    Kind("day", EditionDay, EditionDayBase, "edition_id", ("day",)),
    Kind("zone", Zone, ZoneBase, "edition_id", ("name",)),
    Kind("gate", Gate, GateBase, "zone_id", ("name",)),
    Kind("badge_type", BadgeType, BadgeTypeBase, "edition_id", ("name",)),
    Kind("question", RegistrationQuestion, RegistrationQuestionBase, "edition_id", ("position", "id")),
    Kind("product_category", ProductCategory, ProductCategoryBase, "edition_id", ("code",)),
)}
PARENT_KIND = {"series_id": "series", "edition_id": "edition", "zone_id": "zone"}


def kind_of(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise NotFound("kind", name) from None


def get(session: Session, kind: str, *, id: int) -> SQLModel:
    """One record of a kind, or NotFound."""
    return found(session, kind_of(kind).model, id, what=kind)


def list_of(session: Session, kind: str, *, parent_id: int | None = None) -> list[SQLModel]:
    """The records of a kind, under one parent when the kind has one."""
    spec = kind_of(kind)
    query = select(spec.model)
    if spec.parent:
        get(session, PARENT_KIND[spec.parent], id=parent_id)
        query = query.where(getattr(spec.model, spec.parent) == parent_id)
    return list(session.scalars(query.order_by(*(getattr(spec.model, col) for col in spec.order))))


def _flush_or_conflict(session: Session, spec: Kind, row: SQLModel, changes: dict | None = None) -> None:
    """Write the row (with changes) inside a savepoint, turning a unique clash into a Conflict."""
    try:
        # changes are applied inside the savepoint: begin_nested() flushes what is pending before it starts
        with session.begin_nested():
            for name, value in (changes or {}).items():
                setattr(row, name, value)
            session.add(row)
            session.flush()
    except IntegrityError:
        field = _clashing_field(session, spec, row, changes or {})
        raise Conflict("duplicate", f"{field}: another {spec.name.replace('_', ' ')} already has this value",
                       field=field) from None


def _clashing_field(session: Session, spec: Kind, row: SQLModel, changes: dict) -> str:
    """Name the unique column that clashed, so the message can point at the form field."""
    for constraint in spec.model.__table__.constraints:
        columns = [c.name for c in getattr(constraint, "columns", []) if c.name != spec.parent]
        if constraint.__class__.__name__ != "UniqueConstraint" or not columns:
            continue
        query = select(spec.model).where(*(getattr(spec.model, c.name) == changes.get(c.name, getattr(row, c.name))
                                           for c in constraint.columns))
        if row.id is not None:
            query = query.where(spec.model.id != row.id)
        if session.scalars(query).first() is not None:
            return columns[-1]
    return "body"


def create(session: Session, kind: str, *, data: dict, parent_id: int | None = None,
           actor: audit.Actor = audit.CLI) -> SQLModel:
    """Create a record of a kind under its parent from validated input."""
    spec = kind_of(kind)
    values = validate_input(spec.schema, data).model_dump()
    if spec.parent:
        get(session, PARENT_KIND[spec.parent], id=parent_id)
        values[spec.parent] = parent_id
    row = spec.model(**values)
    _flush_or_conflict(session, spec, row)
    audit.log(session, f"exhibit_crm.{kind}.created", actor=actor, obj=row, data=_jsonable(values))
    return row


def update(session: Session, kind: str, *, id: int, data: dict, actor: audit.Actor = audit.CLI) -> SQLModel:
    """Change some fields of a record; the whole record is validated again."""
    spec = kind_of(kind)
    row = get(session, kind, id=id)
    current = {name: getattr(row, name) for name in spec.schema.model_fields}
    unknown = set(data) - set(spec.schema.model_fields)
    if unknown:
        field = sorted(unknown)[0]
        raise InvalidInput("unknown_field", f"{field}: not a field of {kind}", field=field)
    values = validate_input(spec.schema, {**current, **data}).model_dump()
    changed = {name: value for name, value in values.items() if current[name] != value}
    _flush_or_conflict(session, spec, row, changed)
    if changed:
        audit.log(session, f"exhibit_crm.{kind}.updated", actor=actor, obj=row, data=_jsonable(changed))
    return row


def delete(session: Session, kind: str, *, id: int, actor: audit.Actor = audit.CLI) -> None:
    """Delete a record; refused while other records still depend on it."""
    row = get(session, kind, id=id)
    try:
        with session.begin_nested():
            session.delete(row)
            session.flush()
    except IntegrityError:
        raise Conflict("in_use", f"this {kind.replace('_', ' ')} is still in use and cannot be deleted") from None
    audit.log(session, f"exhibit_crm.{kind}.deleted", actor=actor, data={"id": id})


def edition_overview(session: Session, *, edition_id: int) -> dict:
    """An edition with everything set up under it, for the edition page and the API."""
    edition = get(session, "edition", id=edition_id)
    zones = list_of(session, "zone", parent_id=edition_id)
    return {
        "edition": edition,
        "series": get(session, "series", id=edition.series_id),
        "days": list_of(session, "day", parent_id=edition_id),
        "zones": [{"zone": zone, "gates": list_of(session, "gate", parent_id=zone.id)} for zone in zones],
        "badge_types": list_of(session, "badge_type", parent_id=edition_id),
        "questions": list_of(session, "question", parent_id=edition_id),
        "product_categories": list_of(session, "product_category", parent_id=edition_id),
    }


def _jsonable(values: dict) -> dict:
    return {key: value if isinstance(value, (int, float, str, bool, list, dict, type(None))) else str(value)
            for key, value in values.items()}


def series_listing(session: Session) -> list[dict]:
    """Every series with its editions (newest first), each with its number of zones and gates."""
    zones = dict(session.execute(select(Zone.edition_id, func.count(Zone.id)).group_by(Zone.edition_id)).all())
    gates = dict(session.execute(select(Zone.edition_id, func.count(Gate.id)).join(Gate, Gate.zone_id == Zone.id)
                                 .group_by(Zone.edition_id)).all())
    by_series: dict[int, list[dict]] = {}
    for edition in session.scalars(select(Edition).order_by(Edition.year.desc(), Edition.name)):
        by_series.setdefault(edition.series_id, []).append(
            {"edition": edition, "zones": zones.get(edition.id, 0), "gates": gates.get(edition.id, 0)})
    return [{"series": series, "editions": by_series.get(series.id, [])}
            for series in list_of(session, "series")]


def series_page_data(session: Session, *, series_id: int) -> dict:
    """A series and its editions."""
    return {"series": get(session, "series", id=series_id),
            "editions": list_of(session, "edition", parent_id=series_id)}


@dataclass(frozen=True)
class EditionChoice:
    """An edition as the pages that let staff choose one show it: with its series' names."""

    id: int
    name: str
    year: int
    venue: str
    timezone: str
    series_name: str
    series_name_zh: str

    def series_label(self, language: str) -> str:
        return self.series_name_zh if language == "zh-CN" and self.series_name_zh else self.series_name


def _editions_with_series():
    return select(Edition, Series).join(Series, Series.id == Edition.series_id)


def _choice(edition: Edition, series: Series) -> EditionChoice:
    return EditionChoice(id=edition.id, name=edition.name, year=edition.year, venue=edition.venue,
                         timezone=edition.timezone, series_name=series.name, series_name_zh=series.name_zh)


def choices(session: Session) -> list[EditionChoice]:
    """Every edition, newest first, for the pages where staff choose the edition they work for."""
    rows = session.execute(_editions_with_series().order_by(Edition.year.desc(), Edition.name, Edition.id))
    return [_choice(edition, series) for edition, series in rows]


def choice(session: Session, *, edition_id: int) -> EditionChoice:
    """One edition with its series' names; NotFound if there is none."""
    row = session.execute(_editions_with_series().where(Edition.id == edition_id)).first()
    if row is None:
        raise NotFound("edition", edition_id)
    return _choice(*row)


def delete_edition(session: Session, *, id: int, actor: audit.Actor) -> int:
    """Delete an edition and say which series it was in."""
    series_id = get(session, "edition", id=id).series_id
    delete(session, "edition", id=id, actor=actor)
    return series_id


def _part_in_edition(session: Session, *, edition_id: int, kind: str, id: int) -> None:
    """Refuse a part addressed through an edition it does not belong to."""
    row = get(session, kind, id=id)
    owner = get(session, "zone", id=row.zone_id).edition_id if kind == "gate" else row.edition_id
    if owner != edition_id:
        raise NotFound(kind, id)


def create_part(session: Session, *, edition_id: int, kind: str, data: dict, zone_id: int | None,
                actor: audit.Actor) -> object:
    """Add a part to an edition; a gate goes into one of the edition's zones."""
    parent_id = edition_id
    if kind == "gate":
        _part_in_edition(session, edition_id=edition_id, kind="zone", id=zone_id or 0)
        parent_id = zone_id
    else:
        get(session, "edition", id=edition_id)
    return create(session, kind, data=data, parent_id=parent_id, actor=actor)


def update_part(session: Session, *, edition_id: int, kind: str, id: int, data: dict, actor: audit.Actor) -> object:
    """Change a part of an edition."""
    _part_in_edition(session, edition_id=edition_id, kind=kind, id=id)
    return update(session, kind, id=id, data=data, actor=actor)


def delete_part(session: Session, *, edition_id: int, kind: str, id: int, actor: audit.Actor) -> None:
    """Remove a part of an edition."""
    _part_in_edition(session, edition_id=edition_id, kind=kind, id=id)
    delete(session, kind, id=id, actor=actor)
