"""A show's structure: series, editions, days, zones, gates, badge types, questions."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import field_validator, model_validator
from sqlalchemy import CheckConstraint, ColumnElement, UniqueConstraint, select
from sqlmodel import Field, SQLModel

from .types import LocalTime, created_at_field, enum_check, json_field, one_of

BADGE_LAYOUTS = ("A6", "4x3in")
REENTRY_RULES = ("free", "strict")
QUESTION_KINDS = ("single", "multiple", "text")
# Whom a badge type is for; "organiser" covers the organiser's staff, contractors and service people.
BADGE_AUDIENCES = ("trade_visitor", "public_visitor", "exhibitor_staff", "press", "organiser")
# The audiences statistics count as visitors: exhibitor staff, press and the organiser's people enter with badges too,
# but are not the show's visitors. Every figure named "visitors" counts these and only these.
VISITOR_AUDIENCES = ("trade_visitor", "public_visitor")
# A badge type created without an audience (an API client written before audiences) gets the one its code names:
# the code itself when it is an audience, else the first audience whose word the code holds, else trade_visitor.
_AUDIENCE_BY_WORD = ((("exhibitor",), "exhibitor_staff"), (("press", "media", "journalist"), "press"),
                     (("staff", "organiser", "organizer", "contractor", "service", "crew"), "organiser"),
                     (("vip", "buyer", "trade"), "trade_visitor"), (("public",), "public_visitor"))


def audience_of(code: str) -> str:
    """The audience a badge type's code names (see _AUDIENCE_BY_WORD)."""
    code = (code or "").lower()
    if code in BADGE_AUDIENCES:
        return code
    return next((audience for words, audience in _AUDIENCE_BY_WORD if any(word in code for word in words)),
                "trade_visitor")


# Series: the recurring show across years.
class SeriesBase(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    name_zh: str = Field(default="", max_length=200)


class Series(SeriesBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = created_at_field()


# Edition: one occurrence of a series, judged in its venue's time zone.
class EditionBase(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    year: int = Field(ge=2000, le=2100)
    venue: str = Field(default="", max_length=200)
    timezone: str = Field(default="Asia/Shanghai", max_length=64)
    badge_layout: str = Field(default="A6", max_length=8)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("an IANA time zone such as Asia/Shanghai") from None
        return value

    _known_layout = one_of("badge_layout", BADGE_LAYOUTS)


class Edition(EditionBase, table=True):
    __table_args__ = (
        UniqueConstraint("series_id", "year"),
        CheckConstraint(enum_check("badge_layout", BADGE_LAYOUTS), name="badge_layout"),
    )
    id: int | None = Field(default=None, primary_key=True)
    series_id: int = Field(foreign_key="series.id", index=True)
    # the public registration form takes registrations while this is set
    registration_open: bool = True
    # code of the badge type a public registration gets when no answer names one (a question option's "badge_type")
    visitor_badge_type: str = Field(default="", max_length=40)
    created_at: datetime = created_at_field()


# EditionDay: one show day with its opening hours (local time of the venue).
class EditionDayBase(SQLModel):
    day: date
    opens_at: LocalTime
    closes_at: LocalTime

    @model_validator(mode="after")
    def _opens_before_closing(self):
        if self.opens_at >= self.closes_at:
            raise ValueError("closes_at must be later than opens_at")
        return self


class EditionDay(EditionDayBase, table=True):
    __tablename__ = "edition_day"
    __table_args__ = (UniqueConstraint("edition_id", "day"), CheckConstraint("opens_at < closes_at", name="hours"))
    id: int | None = Field(default=None, primary_key=True)
    edition_id: int = Field(foreign_key="edition.id", index=True, ondelete="CASCADE")


# Zone: a hall, conference room or lounge with its entry rule.
class ZoneBase(SQLModel):
    name: str = Field(min_length=1, max_length=120)
    name_zh: str = Field(default="", max_length=120)
    reentry: str = Field(default="free", max_length=8)
    margin_minutes: int = Field(default=30, ge=0, le=240)

    _known_rule = one_of("reentry", REENTRY_RULES)


class Zone(ZoneBase, table=True):
    __table_args__ = (
        UniqueConstraint("edition_id", "name"),
        CheckConstraint(enum_check("reentry", REENTRY_RULES), name="reentry"),
    )
    id: int | None = Field(default=None, primary_key=True)
    edition_id: int = Field(foreign_key="edition.id", index=True, ondelete="CASCADE")


# Gate: an entrance that opens into one zone.
class GateBase(SQLModel):
    name: str = Field(min_length=1, max_length=120)


class Gate(GateBase, table=True):
    __table_args__ = (UniqueConstraint("zone_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    zone_id: int = Field(foreign_key="zone.id", index=True, ondelete="CASCADE")


# BadgeType: trade visitor, public visitor, VIP buyer, exhibitor staff, press, …; each for one audience.
class BadgeTypeBase(SQLModel):
    code: str = Field(min_length=1, max_length=40, schema_extra={"pattern": r"^[a-z0-9_]+$"})
    name: str = Field(min_length=1, max_length=120)
    name_zh: str = Field(default="", max_length=120)
    color: str = Field(default="#1f6feb", schema_extra={"pattern": r"^#[0-9a-fA-F]{6}$"})
    # whom it is for (a VIP buyer's badge is for a trade visitor); left out, the audience its code names
    audience: str = Field(default="", max_length=20, schema_extra={"json_schema_extra": {
        "enum": list(BADGE_AUDIENCES), "description": "Whom the badge type is for; when left out, the audience its "
        "code names (exhibitor → exhibitor_staff, press or media → press, staff or contractor → organiser, public "
        "→ public_visitor, else trade_visitor)."}})

    _known_audience = one_of("audience", BADGE_AUDIENCES)

    @model_validator(mode="before")
    @classmethod
    def _audience_from_code(cls, data: object) -> object:
        if isinstance(data, dict) and "audience" not in data and "code" in data:
            return {**data, "audience": audience_of(str(data["code"]))}
        return data


class BadgeType(BadgeTypeBase, table=True):
    __tablename__ = "badge_type"
    __table_args__ = (
        UniqueConstraint("edition_id", "code"),
        CheckConstraint(enum_check("audience", BADGE_AUDIENCES), name="audience"),
    )
    id: int | None = Field(default=None, primary_key=True)
    edition_id: int = Field(foreign_key="edition.id", index=True, ondelete="CASCADE")


def holds_visitor_badge(badge_type_id: ColumnElement[int]) -> ColumnElement[bool]:
    """A query condition: the badge type id (e.g. Registration.badge_type_id) names a badge type for visitors."""
    return badge_type_id.in_(select(BadgeType.id).where(BadgeType.audience.in_(VISITOR_AUDIENCES)))


# ZoneAccess: a badge type may enter a zone (on one day, or every day when day_id is null).
class ZoneAccess(SQLModel, table=True):
    __tablename__ = "zone_access"
    __table_args__ = (UniqueConstraint("zone_id", "badge_type_id", "day_id"),)
    id: int | None = Field(default=None, primary_key=True)
    zone_id: int = Field(foreign_key="zone.id", index=True, ondelete="CASCADE")
    badge_type_id: int = Field(foreign_key="badge_type.id", ondelete="CASCADE")
    day_id: int | None = Field(default=None, foreign_key="edition_day.id", ondelete="CASCADE")


# RegistrationQuestion: an edition's own question on the registration form.
class RegistrationQuestionBase(SQLModel):
    key: str = Field(min_length=1, max_length=40, schema_extra={"pattern": r"^[a-z0-9_]+$"})
    label: str = Field(min_length=1, max_length=300)
    label_zh: str = Field(default="", max_length=300)
    kind: str = Field(default="single", max_length=10)
    required: bool = False
    position: int = 0
    # [{"value": "furniture", "label": "Furniture", "label_zh": "家具"}, …] for single and multiple choice
    options: list[dict] = json_field(list)

    _known_kind = one_of("kind", QUESTION_KINDS)

    @model_validator(mode="after")
    def _choices_have_options(self):
        if self.kind != "text" and not self.options:
            raise ValueError("options: a choice question needs at least one option")
        if any(not isinstance(o, dict) or not str(o.get("value", "")).strip() for o in self.options):
            raise ValueError("options: each option needs a value")
        return self


class RegistrationQuestion(RegistrationQuestionBase, table=True):
    __tablename__ = "registration_question"
    __table_args__ = (
        UniqueConstraint("edition_id", "key"),
        CheckConstraint(enum_check("kind", QUESTION_KINDS), name="kind"),
    )
    id: int | None = Field(default=None, primary_key=True)
    edition_id: int = Field(foreign_key="edition.id", index=True, ondelete="CASCADE")


# ProductCategory: the edition-wide list that exhibitors pick from and visitors show interest in.
class ProductCategory(SQLModel, table=True):
    __tablename__ = "product_category"
    __table_args__ = (UniqueConstraint("edition_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    edition_id: int = Field(foreign_key="edition.id", index=True, ondelete="CASCADE")
    code: str = Field(max_length=40)
    name: str = Field(max_length=120)
    name_zh: str = Field(default="", max_length=120)
